"""Wrongly typed JSON gives issues with locations, never an exception.

Official R4 and MedCom examples with one value replaced by a value of another JSON type are
validated against R4 and (for MedCom) their message profile; nothing may escape the validator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.messaging.profiles import ValidatorPool, message_type

from .conftest import errors, load
from .mutations import mutated

PACKAGES = "standards/fhir-packages"
HN_EXAMPLE = "standards/medcom/examples/hospitalnotification/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"
R4_SAMPLE = (
    "Bundle-bundle-transaction.json",
    "Patient-example.json",
    "Observation-example.json",
    "Bundle-bundle-example.json",
    "Composition-example.json",
    "MedicationRequest-medrx0311.json",
)

_robust = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


def test_wrong_types_named_in_the_issue_are_reported_where_they_are(validator: Validator) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": ["urn:uuid:x"], "resource": {"resourceType": "Patient", "meta": {"profile": 3}}}],
    }
    assert set(errors(validator.validate(bundle))) == {
        ("structure", "Bundle.entry[0].fullUrl"),
        ("structure", "Bundle.entry[0].resource.meta.profile"),
    }


@pytest.mark.parametrize("value", [[1], "Patient", 3, None, True])
def test_a_document_that_is_not_an_object_is_an_issue(validator: Validator, value: Any) -> None:
    assert errors(validator.validate(value)) == [("structure", "$this")]


@pytest.mark.parametrize("name", R4_SAMPLE)
def test_mutated_r4_examples_never_raise(validator: Validator, examples_dir: Path, name: str) -> None:
    document = load(examples_dir / name)

    @_robust
    @given(case=mutated(document))
    def check(case: tuple[dict[str, Any], tuple[str | int, ...]]) -> None:
        broken, _path = case
        issues = validator.validate(broken)
        assert all(issue.expression for issue in issues)

    check()


@pytest.fixture(scope="module")
def hn_validator(definitions: Definitions, shared_dir: Path) -> Validator:
    return ValidatorPool(definitions, shared_dir / PACKAGES).for_type(message_type("hospital-notification-message"))


def test_mutated_medcom_message_never_raises(hn_validator: Validator, shared_dir: Path) -> None:
    document = load(shared_dir / HN_EXAMPLE)
    profile = message_type("hospital-notification-message").bundle_profile

    @_robust
    @given(case=mutated(document), explicit=st.booleans())
    def check(case: tuple[dict[str, Any], tuple[str | int, ...]], explicit: bool) -> None:
        broken, _path = case
        issues = hn_validator.validate(broken, (profile,) if explicit else ())
        assert all(issue.expression for issue in issues)

    check()
