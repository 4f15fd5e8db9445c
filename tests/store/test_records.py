"""Stamping versions and the canonical instant text, property-tested."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.errors import PreconditionFailed
from bindeled.fhir import jsonio
from bindeled.store._records import check_if_match, format_instant, parse_instant, stamp

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets)


@given(instants)
def test_instant_text_round_trips_in_utc(moment: datetime) -> None:
    text = format_instant(moment)
    assert len(text) == len("2026-11-22T03:24:00.123456+00:00")
    assert text.endswith("+00:00")
    parsed = parse_instant(text)
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)


@given(instants, instants)
def test_instant_text_sorts_like_time(a: datetime, b: datetime) -> None:
    # SQLite compares last_updated as text: the order must be the order in time.
    assert (format_instant(a) < format_instant(b)) == (a < b)
    assert (format_instant(a) == format_instant(b)) == (a == b)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_instant(datetime(2026, 1, 1))


json_leaf = st.one_of(
    st.booleans(), st.integers(), st.text(min_size=1), st.decimals(allow_nan=False, allow_infinity=False, places=3)
)
json_values = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, min_size=1, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=5), children, min_size=1, max_size=3)
    ),
    max_leaves=10,
)
resources = st.dictionaries(
    st.sampled_from(["id", "meta", "status", "code", "valueQuantity", "extension"]), json_values, max_size=5
).map(lambda d: {"resourceType": "Observation", **d})


@given(resources, st.integers(min_value=1, max_value=10**6), instants)
def test_stamp_sets_id_and_meta_and_leaves_the_input_alone(
    resource: dict[str, Any], version: int, moment: datetime
) -> None:
    if "meta" in resource and not isinstance(resource["meta"], dict):
        resource["meta"] = {"source": "x"}
    before = copy.deepcopy(resource)
    stamped, body = stamp("Observation", "the-id", version, moment, resource)
    assert resource == before
    assert list(stamped)[:3] == ["resourceType", "id", "meta"]
    assert stamped["id"] == "the-id"
    assert stamped["meta"]["versionId"] == str(version)
    assert stamped["meta"]["lastUpdated"] == format_instant(moment)
    assert jsonio.decode_any(body) == stamped
    for key, value in before.items():
        if key not in ("id", "meta"):
            assert stamped[key] == value


def test_if_match() -> None:
    check_if_match("Patient", 3, None)
    check_if_match("Patient", 3, 3)
    check_if_match("Patient", None, None)
    with pytest.raises(PreconditionFailed):
        check_if_match("Patient", 3, 2)
    with pytest.raises(PreconditionFailed):
        check_if_match("Patient", None, 1)
