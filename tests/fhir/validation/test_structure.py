"""Mutations of valid examples: each structural check yields its issue code at the right FHIRPath."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bindeled.fhir.validation import Validator

from .conftest import errors


def test_valid_examples_are_clean(validator: Validator, patient: dict[str, Any], observation: dict[str, Any]) -> None:
    assert errors(validator.validate(patient)) == []
    assert errors(validator.validate(observation)) == []


def test_unknown_element(validator: Validator, patient: dict[str, Any]) -> None:
    patient["name"][0]["nickname"] = "x"
    assert errors(validator.validate(patient)) == [("structure", "Patient.name[0].nickname")]


def test_unknown_resource_type(validator: Validator) -> None:
    assert errors(validator.validate({"resourceType": "Patients"})) == [("structure", "resourceType")]
    assert errors(validator.validate({"id": "x"})) == [("structure", "resourceType")]


def test_array_where_single_value_expected(validator: Validator, patient: dict[str, Any]) -> None:
    patient["gender"] = ["male"]
    assert errors(validator.validate(patient)) == [("structure", "Patient.gender")]


def test_single_value_where_array_expected(validator: Validator, patient: dict[str, Any]) -> None:
    patient["name"][0]["given"] = "Peter"
    assert errors(validator.validate(patient)) == [("structure", "Patient.name[0].given")]


def test_wrong_json_kind_for_primitive(validator: Validator, patient: dict[str, Any]) -> None:
    patient["name"][0]["given"][1] = 7
    assert errors(validator.validate(patient)) == [("value", "Patient.name[0].given[1]")]


def test_wrong_json_kind_for_complex(validator: Validator, patient: dict[str, Any]) -> None:
    patient["maritalStatus"] = "married"
    assert errors(validator.validate(patient)) == [("structure", "Patient.maritalStatus")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birthDate", "1974-02-29"),
        ("birthDate", "1974-13-01"),
        ("active", "true"),
        ("deceasedDateTime", "2015-02-14T13:42"),
    ],
)
def test_bad_primitive_formats(validator: Validator, patient: dict[str, Any], field: str, value: Any) -> None:
    patient.pop("deceasedBoolean", None)
    patient[field] = value
    assert errors(validator.validate(patient)) == [("value", f"Patient.{field}")]


def test_quantity_value_must_be_a_number(validator: Validator, observation: dict[str, Any]) -> None:
    observation["valueQuantity"]["value"] = "185"
    assert errors(validator.validate(observation)) == [("value", "Observation.valueQuantity.value")]
    observation["valueQuantity"]["value"] = Decimal("185.50")
    assert errors(validator.validate(observation)) == []


def test_integer_range(validator: Validator, patient: dict[str, Any]) -> None:
    patient.pop("deceasedBoolean", None)
    patient["multipleBirthInteger"] = 2**31
    assert errors(validator.validate(patient)) == [("value", "Patient.multipleBirthInteger")]


def test_minimum_cardinality(validator: Validator, observation: dict[str, Any]) -> None:
    del observation["status"]
    assert errors(validator.validate(observation)) == [("required", "Observation.status")]


def test_maximum_cardinality_nested(validator: Validator, patient: dict[str, Any]) -> None:
    patient["link"] = [{"other": {"reference": "Patient/1"}, "type": "seealso"}]
    assert errors(validator.validate(patient)) == []
    del patient["link"][0]["type"]
    assert errors(validator.validate(patient)) == [("required", "Patient.link[0].type")]


def test_choice_with_two_types(validator: Validator, observation: dict[str, Any]) -> None:
    observation["valueString"] = "tall"
    found = errors(validator.validate(observation))
    assert ("structure", "Observation.valueString") in found


def test_choice_with_disallowed_type(validator: Validator, patient: dict[str, Any]) -> None:
    patient.pop("deceasedBoolean", None)
    patient["deceasedString"] = "yes"
    assert errors(validator.validate(patient)) == [("structure", "Patient.deceasedString")]


def test_bare_choice_name_is_unknown(validator: Validator, observation: dict[str, Any]) -> None:
    observation["value"] = observation.pop("valueQuantity")
    assert ("structure", "Observation.value") in errors(validator.validate(observation))


def test_primitive_extension_alone_is_valid(validator: Validator, patient: dict[str, Any]) -> None:
    ext = {"extension": [{"url": "http://example.org/why", "valueString": "unknown"}]}
    del patient["birthDate"]
    patient["_birthDate"] = ext
    assert errors(validator.validate(patient)) == []


def test_primitive_extension_arrays_must_align(validator: Validator, patient: dict[str, Any]) -> None:
    ext = {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}
    patient["name"][0]["given"] = ["Peter", None]
    patient["name"][0]["_given"] = [None, ext]
    assert errors(validator.validate(patient)) == []
    patient["name"][0]["_given"] = [ext]
    assert errors(validator.validate(patient)) == [("structure", "Patient.name[0].given")]
    patient["name"][0]["_given"] = [None, None]
    assert errors(validator.validate(patient)) == [("structure", "Patient.name[0].given[1]")]


def test_primitive_extension_content_is_checked(validator: Validator, patient: dict[str, Any]) -> None:
    patient["_gender"] = {"foo": 1}
    found = errors(validator.validate(patient))
    assert ("structure", "Patient.gender.foo") in found
    patient["_gender"] = {"id": "a"}
    assert errors(validator.validate(patient)) == []
    del patient["gender"]
    assert errors(validator.validate(patient)) == [("invariant", "Patient.gender")]


def test_primitive_extension_has_no_value_key(validator: Validator, patient: dict[str, Any]) -> None:
    patient["_gender"] = {"value": "male"}
    assert errors(validator.validate(patient)) == [("structure", "Patient.gender.value")]


def test_underscore_on_complex_element(validator: Validator, patient: dict[str, Any]) -> None:
    patient["_maritalStatus"] = {"id": "x"}
    assert errors(validator.validate(patient)) == [("structure", "Patient._maritalStatus")]


def test_element_with_only_id_breaks_ele_1(validator: Validator, patient: dict[str, Any]) -> None:
    patient["maritalStatus"] = {"id": "m"}
    assert errors(validator.validate(patient)) == [("invariant", "Patient.maritalStatus")]


def test_extension_needs_value_or_extensions(validator: Validator, patient: dict[str, Any]) -> None:
    patient["extension"] = [{"url": "http://example.org/x"}]
    assert errors(validator.validate(patient)) == [("invariant", "Patient.extension[0]")]


def test_known_core_extension_is_checked_against_its_definition(validator: Validator, patient: dict[str, Any]) -> None:
    url = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    patient["_birthDate"] = {"extension": [{"url": url, "valueDateTime": "1974-12-25T14:35:45-05:00"}]}
    assert errors(validator.validate(patient)) == []
    patient["_birthDate"] = {"extension": [{"url": url, "valueString": "afternoon"}]}
    assert ("structure", "Patient.birthDate.extension[0].valueString") in errors(validator.validate(patient))


def test_nested_resources_in_bundle(validator: Validator, patient: dict[str, Any]) -> None:
    patient["gender"] = "f"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}
    assert errors(validator.validate(bundle)) == [("code-invalid", "Bundle.entry[0].resource.gender")]
