"""Contained resources: validated recursively, no nesting, referenced, no version/security meta."""

from __future__ import annotations

from typing import Any

from bindeled.fhir.validation import Validator

from .conftest import errors


def _with_contained(patient: dict[str, Any], org: dict[str, Any]) -> dict[str, Any]:
    patient["contained"] = [org]
    patient["managingOrganization"] = {"reference": "#org1"}
    return patient


def test_contained_resource_is_valid(validator: Validator, patient: dict[str, Any]) -> None:
    _with_contained(patient, {"resourceType": "Organization", "id": "org1", "name": "X"})
    assert errors(validator.validate(patient)) == []


def test_contained_resource_is_validated(validator: Validator, patient: dict[str, Any]) -> None:
    _with_contained(patient, {"resourceType": "Organization", "id": "org1", "name": "X", "active": "yes"})
    assert errors(validator.validate(patient)) == [("value", "Patient.contained[0].active")]


def test_unreferenced_contained_resource(validator: Validator, patient: dict[str, Any]) -> None:
    _with_contained(patient, {"resourceType": "Organization", "id": "org1", "name": "X"})
    patient["managingOrganization"] = {"reference": "Organization/1"}
    assert errors(validator.validate(patient)) == [("invariant", "Patient.contained[0]")]


def test_nested_contained(validator: Validator, patient: dict[str, Any]) -> None:
    inner = {"resourceType": "Organization", "id": "o2", "name": "Y"}
    org = {"resourceType": "Organization", "id": "org1", "contained": [inner], "partOf": {"reference": "#o2"}}
    _with_contained(patient, org)
    assert ("invariant", "Patient.contained[0]") in errors(validator.validate(patient))


def test_contained_meta_rules(validator: Validator, patient: dict[str, Any]) -> None:
    org = {"resourceType": "Organization", "id": "org1", "name": "X", "meta": {"versionId": "1"}}
    _with_contained(patient, org)
    assert errors(validator.validate(patient)) == [("invariant", "Patient.contained[0]")]
    org["meta"] = {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]}
    assert errors(validator.validate(patient)) == [("invariant", "Patient.contained[0]")]


def test_contained_referring_to_container(validator: Validator, patient: dict[str, Any]) -> None:
    prov = {"resourceType": "Provenance", "id": "p", "target": [{"reference": "#"}], "recorded": "2020-01-01T00:00:00Z",
            "agent": [{"who": {"display": "x"}}]}  # fmt: skip
    patient["contained"] = [prov]
    assert errors(validator.validate(patient)) == []
