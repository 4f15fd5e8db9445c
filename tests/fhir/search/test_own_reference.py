"""Absolute references on this server's base URL read as local ``Type/id`` — and nothing else does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bindeled.fhir.search._values import own_reference

BASE = "https://fhir.example.dk/r4"
ids = st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True)
types = st.sampled_from(["Patient", "Observation", "Encounter", "Organization"])


@given(types, ids, st.booleans())
def test_own_base_gives_type_and_id(rtype: str, rid: str, slash: bool) -> None:
    assert own_reference(f"{BASE}/{rtype}/{rid}", BASE + ("/" if slash else "")) == f"{rtype}/{rid}"


@given(types, ids, st.sampled_from(["https://fhir.example.dk/r4x", "http://fhir.example.dk/r4", "https://evil.dk/r4"]))
def test_other_bases_are_not_local(rtype: str, rid: str, other: str) -> None:
    assert own_reference(f"{other}/{rtype}/{rid}", BASE) is None
    assert own_reference(f"{BASE}/{rtype}/{rid}", None) is None


def test_base_itself_and_odd_paths_are_not_local() -> None:
    assert own_reference(BASE, BASE) is None
    assert own_reference(f"{BASE}/metadata", BASE) is None
    assert own_reference(f"{BASE}/Patient/1/_history/2", BASE) == "Patient/1/_history/2"
