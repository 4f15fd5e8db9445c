"""Card edits: what may be edited, how edits apply, and that no input makes the parser fail other than cleanly."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.errors import BindeledError, InvalidRequest, Unprocessable
from bindeled.overview.stamkort_edit import apply_edit, parse_edit, relative_resource
from bindeled.overview.stamkort_model import DENTIST, REGISTER_FIELDS, editable_view, register_view

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "6101709995"}],
    "name": [{"family": "Testesen"}],
    "telecom": [{"system": "email", "value": "x@example.invalid"}, {"system": "phone", "value": "1111"}],
    "address": [{"use": "home", "line": ["Testvej 1"]}],
}


def _edit(*params: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(params)}


@pytest.mark.parametrize("field", REGISTER_FIELDS)
def test_register_fields_are_read_only(field: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        parse_edit(_edit({"name": field, "valueString": "x"}))
    assert caught.value.details_code == "field_read_only"


def test_edit_replaces_named_fields_only() -> None:
    edit = parse_edit(
        _edit(
            {"name": "phone", "valueString": "2222"},
            {"name": "phone", "valueContactPoint": {"value": "3333", "use": "mobile"}},
            {"name": "temporaryAddress", "valueAddress": {"line": ["Sommer 1"], "period": {"start": "2026-06-01",
                                                                                         "end": "2026-06-30"}}},
            {"name": "dentist", "valueReference": {"reference": "Organization/sor-1"}},
        )
    )  # fmt: skip
    changed = apply_edit(PATIENT, edit)
    assert [t["value"] for t in changed["telecom"]] == ["x@example.invalid", "2222", "3333"]
    assert changed["address"][0] == PATIENT["address"][0] and changed["address"][1]["use"] == "temp"
    assert changed["extension"] == [{"url": DENTIST, "valueReference": {"reference": "Organization/sor-1"}}]
    assert register_view(changed) == register_view(PATIENT)
    assert apply_edit(changed, edit) == changed  # applying again changes nothing
    cleared = apply_edit(changed, parse_edit(_edit({"name": "temporaryAddress"}, {"name": "dentist"})))
    assert editable_view(cleared)["temporaryAddress"] is None and editable_view(cleared)["dentist"] is None


def test_bad_edits_are_400() -> None:
    for bad in (
        {"resourceType": "Patient"},
        _edit(),
        _edit({"name": "shoeSize", "valueString": "44"}),
        _edit({"name": "phone", "valueInteger": 5}),
    ):
        with pytest.raises(InvalidRequest):
            apply_edit(PATIENT, parse_edit(bad))
    backwards = {"line": ["x"], "period": {"start": "2026-06-30", "end": "2026-06-01"}}
    with pytest.raises(InvalidRequest):
        apply_edit(PATIENT, parse_edit(_edit({"name": "temporaryAddress", "valueAddress": backwards})))
    with pytest.raises(InvalidRequest):
        relative_resource("p1", {"name": "relative", "part": [{"name": "name", "valueString": "Rita"}]})


_VALUES = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.integers(),
    st.dictionaries(st.sampled_from(["value", "line", "period", "reference", "text"]), st.text(max_size=4)),
)
_PARAMS = st.fixed_dictionaries(
    {"name": st.sampled_from(["phone", "relative", "temporaryAddress", "preferredLanguage", "dentist", "x"])},
    optional={
        "valueString": _VALUES,
        "valueCode": _VALUES,
        "valueAddress": _VALUES,
        "valueReference": _VALUES,
        "valueContactPoint": _VALUES,
        "part": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["name", "relationship", "phone"])},
                                               optional={"valueString": _VALUES}), max_size=3),
    },
)  # fmt: skip


@given(st.lists(_PARAMS, max_size=5))
def test_any_edit_applies_or_fails_cleanly(params: list[dict[str, Any]]) -> None:
    try:
        edit = parse_edit(_edit(*params))
        apply_edit(PATIENT, edit)
        for relative in edit.fields.get("relative", []):
            relative_resource("p1", relative)
    except BindeledError:
        pass
