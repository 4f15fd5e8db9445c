"""Reference target types, and resolving references within a resource and its Bundle."""

from __future__ import annotations

from typing import Any

import pytest

from bindeled.fhir.validation import Validator
from bindeled.fhir.validation.plan import Ctx
from bindeled.fhir.validation.references import resolve_reference

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


# -- resolving references within the resource and its Bundle (references.resolve_reference) ------

_PATIENT = {"resourceType": "Patient", "id": "p1"}
_OTHER_SERVER_PATIENT = {"resourceType": "Patient", "id": "p1", "active": False}
_ORG = {"resourceType": "Organization", "id": "o1"}


def _ctx(hook: Validator, full_url: str | None, *entries: tuple[str, dict[str, Any]]) -> Ctx:
    """The context of a DiagnosticReport that is the Bundle's entry at ``full_url`` (if given)."""
    report = {"resourceType": "DiagnosticReport", "contained": [{"resourceType": "Device", "id": "d1"}]}
    listed = [(full_url, report)] if full_url is not None else []
    bundle = {"resourceType": "Bundle", "entry": [{"fullUrl": url, "resource": r} for url, r in [*entries, *listed]]}
    return Ctx([], report, report, hook, bundle)


def test_resolve_absolute_and_urn(validator: Validator) -> None:
    ctx = _ctx(validator, "urn:uuid:r", ("urn:uuid:1", _PATIENT), ("https://a.example/fhir/Organization/o1", _ORG))
    assert resolve_reference("urn:uuid:1", ctx) is _PATIENT
    assert resolve_reference("https://a.example/fhir/Organization/o1", ctx) is _ORG
    assert resolve_reference("urn:uuid:2", ctx) is None


def test_resolve_relative_prefers_the_referring_entrys_base(validator: Validator) -> None:
    entries = (
        ("https://b.example/fhir/Patient/p1", _OTHER_SERVER_PATIENT),
        ("https://a.example/fhir/Patient/p1", _PATIENT),
    )
    assert (
        resolve_reference("Patient/p1", _ctx(validator, "https://a.example/fhir/DiagnosticReport/r", *entries))
        is _PATIENT
    )
    assert (
        resolve_reference(
            "Patient/p1/_history/3", _ctx(validator, "https://a.example/fhir/DiagnosticReport/r", *entries)
        )
        is _PATIENT
    )


def test_resolve_relative_in_a_urn_uuid_bundle_by_type_and_id(validator: Validator) -> None:
    ctx = _ctx(validator, "urn:uuid:r", ("urn:uuid:9", _ORG), ("urn:uuid:1", _PATIENT))
    assert resolve_reference("Patient/p1", ctx) is _PATIENT
    assert resolve_reference("Patient/o1", ctx) is None


def test_resolve_contained_and_container(validator: Validator) -> None:
    ctx = _ctx(validator, None)
    assert resolve_reference("#d1", ctx) == {"resourceType": "Device", "id": "d1"}
    assert resolve_reference("#", ctx) is ctx.root
    assert resolve_reference("#d2", ctx) is None


def test_nothing_resolves_outside_a_bundle(validator: Validator) -> None:
    ctx = _ctx(validator, None, ("urn:uuid:1", _PATIENT))
    ctx.bundle = None
    assert resolve_reference("urn:uuid:1", ctx) is None
    assert resolve_reference("Patient/p1", ctx) is None
