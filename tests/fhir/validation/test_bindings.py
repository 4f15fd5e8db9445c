"""Required bindings and ValueSet expansion from the definitions."""

from __future__ import annotations

from typing import Any

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.fhir.validation.valuesets import ValueSetExpander

from .conftest import errors


def test_code_not_in_required_value_set(validator: Validator, patient: dict[str, Any]) -> None:
    patient["gender"] = "f"
    assert errors(validator.validate(patient)) == [("code-invalid", "Patient.gender")]


def test_nested_code_binding(validator: Validator, patient: dict[str, Any]) -> None:
    patient["name"][0]["use"] = "nick"
    assert errors(validator.validate(patient)) == [("code-invalid", "Patient.name[0].use")]


def test_codeable_concept_with_required_binding(validator: Validator, observation: dict[str, Any]) -> None:
    observation["dataAbsentReason"] = {"coding": [{"system": "http://example.org", "code": "x"}]}
    del observation["valueQuantity"]
    assert errors(validator.validate(observation)) == []  # extensible binding: not enforced
    observation["status"] = "final"
    observation["valueQuantity"] = {"value": 1, "comparator": "≈"}
    del observation["dataAbsentReason"]
    assert errors(validator.validate(observation)) == [("code-invalid", "Observation.valueQuantity.comparator")]


def test_coding_with_wrong_system_fails(validator: Validator, definitions: Definitions) -> None:
    sub: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "active",
        "reason": "x",
        "criteria": "Observation?",
        "channel": {"type": "rest-hook", "endpoint": "https://example.org", "payload": "application/fhir+json"},
        "meta": {"tag": [{"system": "http://example.org", "code": "x"}]},
    }
    assert errors(validator.validate(sub)) == []
    sub["channel"]["type"] = "carrier-pigeon"
    assert errors(validator.validate(sub)) == [("code-invalid", "Subscription.channel.type")]


def test_expansion_of_whole_code_system(definitions: Definitions) -> None:
    expander = ValueSetExpander(dict(definitions.value_sets), dict(definitions.code_systems))
    codes = expander.expand("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    assert codes is not None
    assert {c for _, c in codes} == {"male", "female", "other", "unknown"}


def test_expansion_with_is_a_filter_and_nested_value_sets() -> None:
    system = "http://example.org/cs"
    cs: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "url": system,
        "content": "complete",
        "concept": [{"code": "a", "concept": [{"code": "a1", "concept": [{"code": "a11"}]}]}, {"code": "b"}],
    }
    isa: dict[str, Any] = {
        "resourceType": "ValueSet",
        "url": "http://example.org/vs-isa",
        "compose": {"include": [{"system": system, "filter": [{"property": "concept", "op": "is-a", "value": "a1"}]}]},
    }
    below: dict[str, Any] = {
        "resourceType": "ValueSet",
        "url": "http://example.org/vs-below",
        "compose": {
            "include": [{"system": system, "filter": [{"property": "concept", "op": "descendent-of", "value": "a"}]}],
            "exclude": [{"system": system, "concept": [{"code": "a11"}]}],
        },
    }
    union: dict[str, Any] = {
        "resourceType": "ValueSet",
        "url": "http://example.org/vs-union",
        "compose": {"include": [{"valueSet": [isa["url"]]}, {"system": system, "concept": [{"code": "b"}]}]},
    }
    expander = ValueSetExpander({}, {})
    for resource in (cs, isa, below, union):
        expander.add(resource)
    assert expander.expand(isa["url"]) == frozenset({(system, "a1"), (system, "a11")})
    assert expander.expand(below["url"]) == frozenset({(system, "a1")})
    assert expander.expand(union["url"]) == frozenset({(system, "a1"), (system, "a11"), (system, "b")})


def test_unexpandable_value_sets_are_unknown(definitions: Definitions) -> None:
    expander = ValueSetExpander(dict(definitions.value_sets), dict(definitions.code_systems))
    assert expander.expand("http://example.org/nothing") is None
    # SNOMED CT is not in the definitions: a value set drawing on it cannot be expanded.
    assert expander.expand("http://hl7.org/fhir/ValueSet/clinical-findings") is None
    unsupported: dict[str, Any] = {
        "resourceType": "ValueSet",
        "url": "http://example.org/regex",
        "compose": {
            "include": [
                {
                    "system": "http://hl7.org/fhir/administrative-gender",
                    "filter": [{"property": "code", "op": "regex", "value": "m.*"}],
                }
            ]
        },
    }
    expander.add(unsupported)
    assert expander.expand(unsupported["url"]) is None


def test_unexpandable_binding_does_not_fail_the_resource(definitions: Definitions, patient: dict[str, Any]) -> None:
    validator = Validator(definitions)
    profile = _gender_bound_to("http://example.org/unknown-vs")
    validator.add_structure_definitions([profile])
    patient["gender"] = "female"
    assert errors(validator.validate(patient, [profile["url"]])) == []


def _gender_bound_to(value_set: str) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/gendered",
        "name": "Gendered",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Patient.gender",
                    "path": "Patient.gender",
                    "binding": {"strength": "required", "valueSet": value_set},
                }
            ]
        },
    }
