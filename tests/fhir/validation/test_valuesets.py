"""ValueSet expansion tolerates package JSON that is not clean FHIR (``null`` array items)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from bindeled.fhir.validation.valuesets import ValueSetExpander

VS = "http://example.org/ValueSet/with-nulls"
CS = "http://example.org/CodeSystem/colours"
TERMINOLOGY_1_4 = "standards/fhir-packages/medcom.fhir.dk.terminology#1.4.0"
ISSUE_DETAILS = "http://medcomfhir.dk/ig/terminology/ValueSet/medcom-acknowledgement-issue-details"


def _expander(compose: dict[str, Any]) -> ValueSetExpander:
    colours = {
        "resourceType": "CodeSystem",
        "url": CS,
        "content": "complete",
        "concept": [{"code": "red"}, {"code": "green"}, {"code": "blue"}],
    }
    return ValueSetExpander({VS: {"resourceType": "ValueSet", "url": VS, "compose": compose}}, {CS: colours})


def test_null_include_is_skipped() -> None:
    expander = _expander({"include": [{"system": CS, "concept": [{"code": "red"}]}, None]})
    assert expander.expand(VS) == {(CS, "red")}


def test_null_exclude_filter_and_concept_are_skipped() -> None:
    compose = {
        "include": [None, {"system": CS, "filter": [None]}],
        "exclude": [None, {"system": CS, "concept": [None, {"code": "green"}]}],
    }
    assert _expander(compose).expand(VS) == {(CS, "red"), (CS, "blue")}


def test_null_value_set_reference_is_skipped() -> None:
    expander = _expander({"include": [{"valueSet": [None]}, {"system": CS, "concept": [{"code": "blue"}]}]})
    assert expander.expand(VS) == {(CS, "blue")}


def test_terminology_1_4_0_issue_details_expands_as_published(shared_dir: Path) -> None:
    """The published file (``"include": [{…}, null]``) expands without being cleaned first."""
    vs = msgspec.json.decode(
        (shared_dir / TERMINOLOGY_1_4 / "ValueSet-medcom-acknowledgement-issue-details.json").read_bytes()
    )
    assert None in vs["compose"]["include"]
    codes = ValueSetExpander({ISSUE_DETAILS: vs}, {}).expand(ISSUE_DETAILS)
    assert codes is not None
    assert ("http://hl7.org/fhir/ValueSet/operation-outcome", "MSG_BAD_SYNTAX") in codes
