"""Reference target types."""

from __future__ import annotations

from typing import Any

import pytest

from bindeled.fhir.validation import Validator

from .conftest import errors


def test_wrong_target_type(validator: Validator, patient: dict[str, Any]) -> None:
    patient["managingOrganization"] = {"reference": "Practitioner/123"}
    assert errors(validator.validate(patient)) == [("invalid", "Patient.managingOrganization.reference")]


def test_unknown_target_type(validator: Validator, patient: dict[str, Any]) -> None:
    patient["managingOrganization"] = {"reference": "Organisation/123"}
    assert errors(validator.validate(patient)) == [("invalid", "Patient.managingOrganization.reference")]


@pytest.mark.parametrize(
    "reference",
    [
        "Organization/1",
        "Organization/1/_history/2",
        "https://other.example.org/fhir/Network/7",
        "urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7",
        "Organization?identifier=x|1",
    ],
)
def test_allowed_or_unchecked_references(validator: Validator, patient: dict[str, Any], reference: str) -> None:
    patient["managingOrganization"] = {"reference": reference}
    assert errors(validator.validate(patient)) == []


def test_any_resource_target(validator: Validator, observation: dict[str, Any]) -> None:
    observation["focus"] = [{"reference": "Medication/1"}]
    assert errors(validator.validate(observation)) == []


def test_repeating_reference_location(validator: Validator, patient: dict[str, Any]) -> None:
    patient["generalPractitioner"] = [{"reference": "Practitioner/1"}, {"reference": "Device/2"}]
    assert errors(validator.validate(patient)) == [("invalid", "Patient.generalPractitioner[1].reference")]


def test_reference_type_element(validator: Validator, patient: dict[str, Any]) -> None:
    patient["managingOrganization"] = {"type": "Patient", "identifier": {"value": "x"}}
    assert errors(validator.validate(patient)) == [("invalid", "Patient.managingOrganization.type")]


def test_contained_target_type(validator: Validator, patient: dict[str, Any]) -> None:
    patient["contained"] = [{"resourceType": "Practitioner", "id": "p1"}]
    patient["managingOrganization"] = {"reference": "#p1"}
    assert errors(validator.validate(patient)) == [("invalid", "Patient.managingOrganization.reference")]
    patient["contained"] = [{"resourceType": "Organization", "id": "p1", "name": "X"}]
    assert errors(validator.validate(patient)) == []
