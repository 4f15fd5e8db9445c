"""Profiles built from differentials (snapshot generation) and every profile feature they use:
tightened cardinality, fixed/pattern values, type and target restrictions, bindings, slicing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import SnapshotError, Validator

from .conftest import errors, load

BASE = "http://hl7.org/fhir/StructureDefinition/"
OBS = "http://example.org/StructureDefinition/test-obs"
EXT = "http://example.org/StructureDefinition/test-note"
BUNDLE = "http://example.org/StructureDefinition/test-bundle"
BUNDLE2 = "http://example.org/StructureDefinition/test-bundle-by-profile"
PANEL = "http://example.org/StructureDefinition/test-panel"
LOINC = "http://loinc.org"
CAT = "http://terminology.hl7.org/CodeSystem/observation-category"


def _sd(url: str, kind: str, type_: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[-1],
        "status": "draft",
        "kind": kind,
        "abstract": False,
        "type": type_,
        "baseDefinition": BASE + type_,
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def _slicing(kind: str, path: str, rules: str) -> dict[str, Any]:
    return {"discriminator": [{"type": kind, "path": path}], "rules": rules}


def _path(element_id: str) -> str:
    return ".".join(part.split(":")[0] for part in element_id.split("."))


def _profiles() -> list[dict[str, Any]]:
    ext = _sd(EXT, "complex-type", "Extension", [
        {"id": "Extension.url", "fixedUri": EXT},
        {"id": "Extension.value[x]", "type": [{"code": "string"}]},
    ])  # fmt: skip
    obs = _sd(OBS, "resource", "Observation", [
        {"id": "Observation.extension", "slicing": _slicing("value", "url", "open")},
        {"id": "Observation.extension:note", "sliceName": "note", "min": 1, "max": "1",
         "type": [{"code": "Extension", "profile": [EXT]}]},
        {"id": "Observation.identifier", "slicing": _slicing("exists", "system", "open")},
        {"id": "Observation.identifier:withSystem", "sliceName": "withSystem", "min": 0, "max": "1"},
        {"id": "Observation.identifier:withSystem.system", "min": 1},
        {"id": "Observation.status", "fixedCode": "final"},
        {"id": "Observation.category", "slicing": _slicing("pattern", "$this", "closed")},
        {"id": "Observation.category:vs", "sliceName": "vs", "min": 1, "max": "1",
         "patternCodeableConcept": {"coding": [{"system": CAT, "code": "vital-signs"}]}},
        {"id": "Observation.code", "patternCodeableConcept": {"coding": [{"system": LOINC, "code": "29463-7"}]}},
        {"id": "Observation.subject", "min": 1, "type": [{"code": "Reference", "targetProfile": [BASE + "Patient"]}]},
        {"id": "Observation.value[x]", "type": [{"code": "Quantity"}]},
        {"id": "Observation.interpretation", "max": "0"},
        {"id": "Observation.issued", "max": "0"},
    ])  # fmt: skip
    bundle = _sd(BUNDLE, "resource", "Bundle", [
        {"id": "Bundle.entry", "slicing": _slicing("type", "resource", "open")},
        {"id": "Bundle.entry:patient", "sliceName": "patient", "min": 1, "max": "1"},
        {"id": "Bundle.entry:patient.resource", "type": [{"code": "Patient"}]},
        {"id": "Bundle.entry:weight", "sliceName": "weight", "min": 0, "max": "1"},
        {"id": "Bundle.entry:weight.resource", "type": [{"code": "Observation", "profile": [OBS]}]},
    ])  # fmt: skip
    by_profile = _sd(BUNDLE2, "resource", "Bundle", [
        {"id": "Bundle.entry", "slicing": _slicing("profile", "resource", "open")},
        {"id": "Bundle.entry:weight", "sliceName": "weight", "min": 1, "max": "1"},
        {"id": "Bundle.entry:weight.resource", "type": [{"code": "Observation", "profile": [OBS]}]},
    ])  # fmt: skip
    panel = _sd(PANEL, "resource", "Observation", [
        {"id": "Observation.component", "slicing": _slicing("type", "value[x]", "open")},
        {"id": "Observation.component:numeric", "sliceName": "numeric", "min": 1, "max": "1"},
        {"id": "Observation.component:numeric.value[x]", "type": [{"code": "Quantity"}]},
    ])  # fmt: skip
    for sd in (ext, obs, bundle, by_profile, panel):
        for el in sd["differential"]["element"]:
            el["path"] = _path(el["id"])
    return [ext, obs, bundle, by_profile, panel]


@pytest.fixture(scope="module")
def profiled(definitions: Definitions) -> Validator:
    v = Validator(definitions)
    v.add_structure_definitions(_profiles())
    return v


@pytest.fixture
def weight(observation: dict[str, Any]) -> dict[str, Any]:
    observation["extension"] = [{"url": EXT, "valueString": "after breakfast"}]
    observation["subject"] = {"reference": "Patient/example"}
    return observation


def test_conforming_resource(profiled: Validator, weight: dict[str, Any]) -> None:
    assert errors(profiled.validate(weight, [OBS])) == []


def test_claimed_profile_is_validated(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["meta"] = {"profile": [OBS]}
    weight["status"] = "preliminary"
    assert errors(profiled.validate(weight)) == [("value", "Observation.status")]


def test_unknown_claimed_profile_is_a_warning(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["meta"] = {"profile": ["http://example.org/none"]}
    issues = profiled.validate(weight)
    assert errors(issues) == []
    assert [i.severity for i in issues if "not known" in i.diagnostics] == ["warning"]
    assert errors(profiled.validate(weight, ["http://example.org/none"])) == [("not-supported", "Observation")]


def test_profile_for_another_type(profiled: Validator, patient: dict[str, Any]) -> None:
    assert errors(profiled.validate(patient, [OBS])) == [("invalid", "Patient")]


def test_fixed_value(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["status"] = "amended"
    assert errors(profiled.validate(weight, [OBS])) == [("value", "Observation.status")]


def test_pattern_value(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["code"]["coding"][0]["code"] = "8302-2"
    assert errors(profiled.validate(weight, [OBS])) == [("value", "Observation.code")]


def test_tightened_cardinality(profiled: Validator, weight: dict[str, Any]) -> None:
    del weight["subject"]
    assert errors(profiled.validate(weight, [OBS])) == [("required", "Observation.subject")]
    weight["subject"] = {"reference": "Patient/example"}
    weight["interpretation"] = [{"text": "high"}]
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.interpretation")]
    del weight["interpretation"]
    weight["issued"] = "2020-01-01T00:00:00Z"
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.issued")]


def test_type_restriction(profiled: Validator, weight: dict[str, Any]) -> None:
    del weight["valueQuantity"]
    weight["valueString"] = "heavy"
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.valueString")]
    assert errors(profiled.validate(weight)) == []


def test_target_profile_restriction(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["subject"] = {"reference": "Group/1"}
    assert errors(profiled.validate(weight)) == []
    assert errors(profiled.validate(weight, [OBS])) == [("invalid", "Observation.subject.reference")]


def test_extension_slice_by_url(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["extension"] = [{"url": EXT, "valueInteger": 1}]
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.extension[0].valueInteger")]
    weight["extension"] = [{"url": "http://example.org/other", "valueInteger": 1}]
    assert errors(profiled.validate(weight, [OBS])) == [("required", "Observation.extension")]


def test_closed_slicing_and_slice_cardinality(profiled: Validator, weight: dict[str, Any]) -> None:
    extra = {"coding": [{"system": CAT, "code": "laboratory"}]}
    weight["category"].append(extra)
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.category[1]")]
    weight["category"] = [extra]
    assert errors(profiled.validate(weight, [OBS])) == [
        ("structure", "Observation.category[0]"),
        ("required", "Observation.category"),
    ]
    weight["category"] = [{"coding": [{"system": CAT, "code": "vital-signs"}]} for _ in range(2)]
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.category")]


def test_exists_discriminator(profiled: Validator, weight: dict[str, Any]) -> None:
    weight["identifier"] = [{"value": "a"}, {"system": "http://example.org", "value": "b"}]
    assert errors(profiled.validate(weight, [OBS])) == []
    weight["identifier"].append({"system": "http://example.org", "value": "c"})
    assert errors(profiled.validate(weight, [OBS])) == [("structure", "Observation.identifier")]


def test_type_and_profile_discriminators(profiled: Validator, weight: dict[str, Any], patient: dict[str, Any]) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:1", "resource": patient}, {"fullUrl": "urn:uuid:2", "resource": weight}],
    }
    assert errors(profiled.validate(bundle, [BUNDLE])) == []
    bundle["entry"] = bundle["entry"][1:]
    assert errors(profiled.validate(bundle, [BUNDLE])) == [("required", "Bundle.entry")]
    bad = copy.deepcopy(weight)
    bad["status"] = "amended"
    bundle["entry"] = [{"fullUrl": "urn:uuid:1", "resource": patient}, {"fullUrl": "urn:uuid:3", "resource": bad}]
    # The type discriminator puts any Observation in the weight slice, whose profile it breaks.
    assert errors(profiled.validate(bundle, [BUNDLE])) == [("value", "Bundle.entry[1].resource.status")]


def test_profile_discriminator(profiled: Validator, weight: dict[str, Any]) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:2", "resource": weight}]}
    assert errors(profiled.validate(bundle, [BUNDLE2])) == []
    weight["status"] = "amended"
    # A non-conforming Observation does not match the slice: it stays an open entry, and the slice is missing.
    assert errors(profiled.validate(bundle, [BUNDLE2])) == [("required", "Bundle.entry")]


def test_core_blood_pressure_profile_slices_through_coding_slices(validator: Validator, examples_dir: Any) -> None:
    bp = load(examples_dir / "Observation-blood-pressure.json")
    profile = [BASE + "bp"]
    assert errors(validator.validate(bp, profile)) == []
    wrong_unit = copy.deepcopy(bp)
    wrong_unit["component"][0]["valueQuantity"]["code"] = "kPa"
    # kPa breaks the fixed unit code, and is not in the required ucum-vitals-common value set either.
    assert set(errors(validator.validate(wrong_unit, profile))) == {
        ("value", "Observation.component[0].valueQuantity.code"),
        ("code-invalid", "Observation.component[0].valueQuantity"),
    }
    bp["component"] = bp["component"][1:]
    texts = [i.diagnostics for i in validator.validate(bp, profile) if i.is_error]
    assert texts == [
        "Slice SystolicBP of component needs at least 1, found 0",
        "Element component is required: minimum 2, found 1",
    ]


def test_type_discriminator_on_choice(profiled: Validator, observation: dict[str, Any]) -> None:
    code = {"text": "part"}
    observation["component"] = [{"code": code, "valueString": "a"}, {"code": code, "valueQuantity": {"value": 1}}]
    assert errors(profiled.validate(observation, [PANEL])) == []
    observation["component"].append({"code": code, "valueQuantity": {"value": 2}})
    assert errors(profiled.validate(observation, [PANEL])) == [("structure", "Observation.component")]
    observation["component"] = observation["component"][:1]
    assert errors(profiled.validate(observation, [PANEL])) == [("required", "Observation.component")]


def test_differential_with_unknown_base(definitions: Definitions, tmp_path: Path) -> None:
    orphan = _sd("http://example.org/StructureDefinition/orphan", "resource", "Patient", [])
    orphan["baseDefinition"] = "http://example.org/StructureDefinition/missing"
    validator = Validator(definitions)
    with pytest.raises(SnapshotError):
        validator.add_structure_definitions([orphan])
    (tmp_path / "StructureDefinition-orphan.json").write_text(json.dumps(orphan))
    (tmp_path / "package.json").write_text("{}")
    validator.add_package(tmp_path)  # skipped, not fatal
    issues = validator.validate({"resourceType": "Patient", "meta": {"profile": [orphan["url"]]}})
    assert [(i.severity, i.code) for i in issues if "orphan" in i.diagnostics] == [("warning", "not-supported")]


def test_ordered_and_open_at_end_slicing(definitions: Definitions, patient: dict[str, Any]) -> None:
    url = "http://example.org/StructureDefinition/ordered"
    slicing = {"discriminator": [{"type": "value", "path": "system"}], "rules": "openAtEnd", "ordered": True}
    sd = _sd(url, "resource", "Patient", [
        {"id": "Patient.identifier", "slicing": slicing},
        {"id": "Patient.identifier:a", "sliceName": "a"},
        {"id": "Patient.identifier:a.system", "fixedUri": "urn:a"},
        {"id": "Patient.identifier:b", "sliceName": "b"},
        {"id": "Patient.identifier:b.system", "fixedUri": "urn:b"},
    ])  # fmt: skip
    for el in sd["differential"]["element"]:
        el["path"] = _path(el["id"])
    validator = Validator(definitions)
    validator.add_structure_definitions([sd])
    a, b, other = ({"system": s, "value": "1"} for s in ("urn:a", "urn:b", "urn:other"))
    patient["identifier"] = [a, b, other]
    assert errors(validator.validate(patient, [url])) == []
    patient["identifier"] = [b, a]
    assert errors(validator.validate(patient, [url])) == [("structure", "Patient.identifier[1]")]
    patient["identifier"] = [other, a]
    assert errors(validator.validate(patient, [url])) == [("structure", "Patient.identifier[1]")]
