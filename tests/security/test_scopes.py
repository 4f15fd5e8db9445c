"""SMART v1 and v2 scopes: parsing, permissions, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.security import TokenRejected, parse_scopes
from bindeled.security.scopes import parse_scope


@pytest.mark.parametrize(
    ("text", "context", "type_", "letters"),
    [
        ("patient/Observation.rs", "patient", "Observation", "rs"),
        ("user/*.cruds", "user", "*", "cruds"),
        ("system/Appointment.c", "system", "Appointment", "c"),
        ("patient/Observation.read", "patient", "Observation", "rs"),
        ("user/*.write", "user", "*", "cud"),
        ("system/*.*", "system", "*", "cruds"),
    ],
)
def test_resource_scopes(text: str, context: str, type_: str, letters: str) -> None:
    scope = parse_scope(text)
    assert scope is not None
    assert (scope.context, scope.resource_type, scope.permissions) == (context, type_, frozenset(letters))


def test_restrictions_are_kept() -> None:
    scope = parse_scope(
        "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
    )
    assert scope is not None and scope.restrictions[0][0] == "category"
    assert parse_scopes(str(scope)).resources == (scope,)


@pytest.mark.parametrize(
    "text",
    ["patient/Observation.sr", "patient/Observation.x", "patient/observation.rs", "admin/*.rs", "user/*.", "user/*.rr"],
)
def test_malformed_resource_scopes_are_refused(text: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        parse_scopes(text)
    assert refused.value.details_code == "invalid_scope"


def test_other_scopes_are_kept_aside() -> None:
    scopes = parse_scopes("openid fhirUser launch/patient offline_access user/Appointment.rs")
    assert scopes.other == {"openid", "fhirUser", "launch/patient", "offline_access"}
    assert len(scopes.resources) == 1
    assert parse_scopes(["user/*.rs", "openid"]).other == {"openid"}
    assert parse_scopes(None).resources == ()


def test_allows_checks_type_interaction_and_context() -> None:
    scopes = parse_scopes("patient/Appointment.rs user/Observation.c")
    assert scopes.allows("Appointment", "search") and scopes.allows("Appointment", "vread")
    assert not scopes.allows("Appointment", "update")
    assert scopes.allows("Observation", "create", ("user",))
    assert not scopes.allows("Observation", "create", ("system",))
    assert not scopes.allows("Observation", "operation")


contexts = st.sampled_from(["patient", "user", "system"])
types = st.sampled_from(["*", "Patient", "Observation", "MedicationRequest"])
letters = st.lists(st.sampled_from("cruds"), min_size=1, unique=True).map(
    lambda ls: "".join(sorted(ls, key="cruds".index))
)


@given(st.lists(st.tuples(contexts, types, letters), max_size=5))
def test_scope_text_round_trips(parts: list[tuple[str, str, str]]) -> None:
    text = " ".join(f"{c}/{t}.{p}" for c, t, p in parts)
    scopes = parse_scopes(text)
    assert parse_scopes(scopes.text()) == scopes
    assert scopes.text() == text
