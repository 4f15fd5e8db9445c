"""Every one of the 146 R4 resource types can be created, read, updated, searched and deleted.

Instances are generated from the definitions themselves (every required element given a minimal
value of its type), plus hand-written additions for the few types whose invariants need more.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bindeled.fhir.definitions import Definitions, ElementInfo
from bindeled.fhir.validation import Validator

JSON = {"Content-Type": "application/fhir+json"}

# What the invariants of these types ask for beyond their required elements.
EXTRA: dict[str, dict[str, Any]] = {
    "AllergyIntolerance": {
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}
            ]
        }
    },
    "Appointment": {"participant": [{"status": "accepted", "actor": {"display": "x"}}]},
    "AppointmentResponse": {"actor": {"display": "x"}},
    "Bundle": {"type": "collection"},
    "CapabilityStatement": {"kind": "requirements", "description": "x", "rest": [{"mode": "server"}]},
    "Consent": {"policyRule": {"text": "x"}},
    "EventDefinition": {"trigger": [{"type": "named-event", "name": "x"}]},
    "ImmunizationRecommendation": {
        "recommendation": [{"vaccineCode": [{"text": "x"}], "forecastStatus": {"text": "due"}}]
    },
    "InsurancePlan": {"name": "x"},
    "Linkage": {
        "item": [{"type": "source", "resource": {"display": "a"}}, {"type": "alternate", "resource": {"display": "b"}}]
    },
    "Organization": {"name": "x"},
    "StructureDefinition": {"type": "Patient", "differential": {"element": [{"id": "Patient", "path": "Patient"}]}},
    "TerminologyCapabilities": {"kind": "requirements", "description": "x"},
}


def _first_code(definitions: Definitions, value_set: str | None) -> str | None:
    vs = definitions.value_sets.get(value_set or "")
    for include in (vs or {}).get("compose", {}).get("include", ()):
        if include.get("concept"):
            return str(include["concept"][0]["code"])
        system = definitions.code_systems.get(include.get("system", ""))
        if system and system.get("concept"):
            return str(system["concept"][0]["code"])
    return None


def _value(definitions: Definitions, info: ElementInfo, type_code: str) -> Any:
    code = _first_code(definitions, info.binding_value_set) if info.binding_strength == "required" else None
    simple: dict[str, Any] = {
        "code": code or "x",
        "string": "x",
        "markdown": "x",
        "uri": "urn:x",
        "url": "urn:x",
        "canonical": "urn:x",
        "id": "x",
        "boolean": True,
        "integer": 1,
        "positiveInt": 1,
        "unsignedInt": 1,
        "decimal": 1,
        "dateTime": "2024-01-01",
        "date": "2024-01-01",
        "instant": "2024-01-01T00:00:00Z",
        "Coding": {"system": "urn:x", "code": "x"},
        "Reference": {"display": "x"},
        "Identifier": {"value": "x"},
        "Annotation": {"text": "x"},
    }
    if type_code == "CodeableConcept":
        return {"coding": [{"code": code}]} if code else {"coding": [{"system": "urn:x", "code": "x"}]}
    if type_code == "BackboneElement":
        return _required(definitions, info.path)
    return simple.get(type_code, {"extension": [{"url": "urn:x", "valueString": "x"}]})


def _required(definitions: Definitions, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for info in definitions.children(path):
        if info.min == 0 or info.name in ("id", "extension", "modifierExtension"):
            continue
        type_code = info.types[0].code if info.types else "BackboneElement"
        key = info.name + (type_code[0].upper() + type_code[1:] if info.is_choice else "")
        value = _value(definitions, info, type_code)
        out[key] = [value] if info.is_array else value
    return out


def minimal(definitions: Definitions, type_name: str) -> dict[str, Any]:
    return {"resourceType": type_name, **_required(definitions, type_name), **EXTRA.get(type_name, {})}


def test_generated_instances_are_valid(definitions: Definitions) -> None:
    validator = Validator(definitions)
    for type_name in sorted(definitions.resource_types):
        errors = [i for i in validator.validate(minimal(definitions, type_name)) if i.is_error]
        assert not errors, (type_name, errors)


@pytest.mark.slow
def test_crud_on_every_type(client: httpx.Client, definitions: Definitions) -> None:
    assert len(definitions.resource_types) == 146
    for type_name in sorted(definitions.resource_types):
        body = minimal(definitions, type_name)
        created = client.post(f"/{type_name}", json=body, headers=JSON)
        assert created.status_code == 201, (type_name, created.text[:500])
        id_ = created.json()["id"]
        read = client.get(f"/{type_name}/{id_}")
        assert read.status_code == 200, type_name
        updated = client.put(f"/{type_name}/{id_}", json={**read.json(), "id": id_}, headers=JSON)
        assert updated.status_code == 200 and updated.json()["meta"]["versionId"] == "2", type_name
        found = client.get(f"/{type_name}", params={"_id": id_}).json()
        assert [e["resource"]["id"] for e in found.get("entry", [])] == [id_], type_name
        assert client.get(f"/{type_name}/{id_}", headers={"Accept": "application/fhir+xml"}).status_code == 200
        assert client.delete(f"/{type_name}/{id_}").status_code == 204, type_name
        assert client.get(f"/{type_name}/{id_}").status_code == 410, type_name
