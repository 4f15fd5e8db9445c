"""DK-core 3.4.0 and MedCom core 4.0.0 profiles, from the published packages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator

from .conftest import DK_CORE, MEDCOM_CORE, errors, load

DK_PATIENT = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-patient"
MUNICIPALITY = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes"
_INSTANCE_KINDS = ("Patient", "Practitioner", "PractitionerRole", "Organization", "Observation", "Condition",
                   "Location", "RelatedPerson", "ServiceRequest", "Bundle", "Device", "Parameters")  # fmt: skip


def _instances(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("*.json")) if p.name.split("-", 1)[0] in _INSTANCE_KINDS]


@pytest.fixture
def max_patient(shared_dir: Path) -> dict[str, Any]:
    return load(shared_dir / DK_CORE / "Patient-Max.json")


def test_dk_core_examples_are_valid(dk_validator: Validator, shared_dir: Path) -> None:
    paths = _instances(shared_dir / DK_CORE)
    assert len(paths) > 50
    claimed = 0
    for path in paths:
        resource = load(path)
        claimed += DK_PATIENT in (resource.get("meta") or {}).get("profile", [])
        assert errors(dk_validator.validate(resource)) == [], path.name
    assert claimed >= 8


def _mutations(patient: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[tuple[str, str]]]]:
    two_cpr = copy.deepcopy(patient)
    two_cpr["identifier"].append(copy.deepcopy(two_cpr["identifier"][0]))
    bad_cpr = copy.deepcopy(patient)
    bad_cpr["identifier"][0]["value"] = "12345"
    no_identifier = copy.deepcopy(patient)
    del no_identifier["identifier"]
    no_family = copy.deepcopy(patient)
    del no_family["name"][0]["family"]
    bad_ext_type = copy.deepcopy(patient)
    bad_ext_type["address"] = [{"city": "Odense", "extension": [{"url": MUNICIPALITY, "valueString": "461"}]}]
    bad_municipality = copy.deepcopy(patient)
    coding = {"system": "urn:oid:1.2.208.176.1.3", "code": "9999"}
    bad_municipality["address"] = [
        {"city": "Odense", "extension": [{"url": MUNICIPALITY, "valueCodeableConcept": {"coding": [coding]}}]}
    ]
    return {
        "two CPR identifiers": (two_cpr, [("structure", "Patient.identifier")]),
        "malformed CPR": (bad_cpr, [("invariant", "Patient.identifier[0].value")]),
        "no identifier": (no_identifier, [("required", "Patient.identifier")]),
        "official name without family": (no_family, [("required", "Patient.name[0].family")]),
        "municipality extension of the wrong type": (
            bad_ext_type,
            [("structure", "Patient.address[0].extension[0].valueString")],
        ),
        "unknown municipality code": (
            bad_municipality,
            [("code-invalid", "Patient.address[0].extension[0].valueCodeableConcept.coding[0]")],
        ),
    }


def test_patient_violating_dk_core(dk_validator: Validator, max_patient: dict[str, Any]) -> None:
    assert errors(dk_validator.validate(max_patient)) == []
    profile_only = {"two CPR identifiers", "malformed CPR", "no identifier", "official name without family"}
    for label, (mutated, expected) in _mutations(max_patient).items():
        assert errors(dk_validator.validate(mutated)) == expected, label
        if label in profile_only:
            mutated.pop("meta")
            assert errors(dk_validator.validate(mutated)) == [], label


def test_error_texts_carry_no_personal_data(dk_validator: Validator, max_patient: dict[str, Any]) -> None:
    mutated, _ = _mutations(max_patient)["malformed CPR"]
    mutated["name"][0]["given"] = [7]
    for issue in dk_validator.validate(mutated):
        assert "12345" not in issue.diagnostics and "Berggren" not in issue.diagnostics


def test_differential_only_profile_matches_published_snapshot(
    definitions: Definitions, shared_dir: Path, dk_validator: Validator, max_patient: dict[str, Any]
) -> None:
    published = json.loads((shared_dir / DK_CORE / "StructureDefinition-dk-core-patient.json").read_text())
    differential_only = {k: v for k, v in published.items() if k != "snapshot"}
    validator = Validator(definitions)
    validator.add_package(shared_dir / DK_CORE)
    validator.add_structure_definitions([differential_only])
    for mutated, expected in _mutations(max_patient).values():
        assert errors(validator.validate(mutated)) == expected


def test_medcom_core_profiles(definitions: Definitions, shared_dir: Path) -> None:
    validator = Validator(definitions)
    packages = shared_dir / "standards/fhir-packages"
    for name in ("hl7.fhir.dk.core#3.5.0", "medcom.fhir.dk.terminology#2.0.1", "medcom.fhir.dk.core#4.0.0"):
        validator.add_package(packages / name)
    examples = [p for p in _instances(shared_dir / MEDCOM_CORE) if "Patient" in p.name or "Organization" in p.name]
    assert examples
    for path in examples:
        resource = load(path)
        kind = resource["resourceType"]
        # MedCom profiles require a narrative; the package examples carry none (the IG publisher adds it).
        assert errors(validator.validate(resource)) == [("required", f"{kind}.text")], path.name
        resource["text"] = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
        assert errors(validator.validate(resource)) == [], path.name
