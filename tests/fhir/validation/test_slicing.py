"""Discriminators that name a choice element by its stem, and ``resolve()`` discriminators
(followed within contained resources and the Bundle being validated)."""

from __future__ import annotations

from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator

from .conftest import errors

BASE = "http://hl7.org/fhir/StructureDefinition/"
STEM = "http://example.org/StructureDefinition/test-component-by-stem"
PAYLOAD = "http://example.org/StructureDefinition/test-note-by-stem"
USE = "http://example.org/StructureDefinition/test-use"
NAMED_ORG = "http://example.org/StructureDefinition/test-named-org"
REPORT = "http://example.org/StructureDefinition/test-report"
REPORT_BY_TYPE = "http://example.org/StructureDefinition/test-report-by-type"
PANEL = "http://example.org/StructureDefinition/test-cyclic-panel"
USES = "http://example.org/CodeSystem/use"
LOINC = "http://loinc.org"


def _sd(url: str, kind: str, type_: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
    for el in elements:
        el["path"] = ".".join(part.split(":")[0] for part in el["id"].split("."))
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


def _slicing(kind: str, path: str, rules: str = "closed") -> dict[str, Any]:
    return {"discriminator": [{"type": kind, "path": path}], "rules": rules}


def _use_slice(prefix: str, code: str) -> list[dict[str, Any]]:
    """A ``use`` extension slice whose value[x] carries a pattern (as MedCom's destination)."""
    return [
        {"id": f"{prefix}.extension", "slicing": _slicing("value", "url", "open")},
        {"id": f"{prefix}.extension:use", "sliceName": "use", "min": 1, "max": "1",
         "type": [{"code": "Extension", "profile": [USE]}]},
        {"id": f"{prefix}.extension:use.value[x]", "patternCoding": {"system": USES, "code": code}},
    ]  # fmt: skip


def _profiles() -> list[dict[str, Any]]:
    use = _sd(USE, "complex-type", "Extension", [
        {"id": "Extension.url", "fixedUri": USE},
        {"id": "Extension.value[x]", "type": [{"code": "Coding"}]},
    ])  # fmt: skip
    by_value = _sd(STEM, "resource", "Observation", [
        {"id": "Observation.component", "slicing": _slicing("value", "$this.extension.value")},
        {"id": "Observation.component:primary", "sliceName": "primary", "min": 1, "max": "1"},
        *_use_slice("Observation.component:primary", "primary"),
        {"id": "Observation.component:cc", "sliceName": "cc", "min": 0, "max": "*"},
        *_use_slice("Observation.component:cc", "cc"),
    ])  # fmt: skip
    by_type = _sd(PAYLOAD, "resource", "Observation", [
        {"id": "Observation.component", "slicing": _slicing("type", "$this.value", "open")},
        {"id": "Observation.component:text", "sliceName": "text", "min": 1, "max": "1"},
        {"id": "Observation.component:text.value[x]", "type": [{"code": "string"}]},
        {"id": "Observation.component:number", "sliceName": "number", "min": 0, "max": "1"},
        {"id": "Observation.component:number.value[x]", "type": [{"code": "Quantity"}]},
    ])  # fmt: skip
    named_org = _sd(NAMED_ORG, "resource", "Organization", [{"id": "Organization.name", "min": 1}])
    performer_types = [{"code": "Reference", "targetProfile": [NAMED_ORG, BASE + "PractitionerRole"]}]
    report = _sd(REPORT, "resource", "DiagnosticReport", [
        {"id": "DiagnosticReport.performer", "slicing": _slicing("profile", "resolve()"), "type": performer_types},
        {"id": "DiagnosticReport.performer:org", "sliceName": "org", "min": 1, "max": "1",
         "type": [{"code": "Reference", "targetProfile": [NAMED_ORG]}]},
        {"id": "DiagnosticReport.performer:role", "sliceName": "role", "min": 0, "max": "1",
         "type": [{"code": "Reference", "targetProfile": [BASE + "PractitionerRole"]}]},
    ])  # fmt: skip
    report_by_type = _sd(REPORT_BY_TYPE, "resource", "DiagnosticReport", [
        {"id": "DiagnosticReport.performer", "slicing": _slicing("type", "resolve()", "open")},
        {"id": "DiagnosticReport.performer:role", "sliceName": "role", "min": 1, "max": "1",
         "type": [{"code": "Reference", "targetProfile": [BASE + "PractitionerRole"]}]},
    ])  # fmt: skip
    panel = _sd(PANEL, "resource", "Observation", [
        {"id": "Observation.status", "fixedCode": "final"},
        {"id": "Observation.hasMember", "slicing": _slicing("profile", "resolve()")},
        {"id": "Observation.hasMember:panel", "sliceName": "panel", "min": 1, "max": "1",
         "type": [{"code": "Reference", "targetProfile": [PANEL]}]},
    ])  # fmt: skip
    return [use, by_value, by_type, named_org, report, report_by_type, panel]


@pytest.fixture(scope="module")
def profiled(definitions: Definitions) -> Validator:
    v = Validator(definitions)
    v.add_structure_definitions(_profiles())
    return v


def _component(use: str | None = None, **value: Any) -> dict[str, Any]:
    component: dict[str, Any] = {"code": {"coding": [{"system": LOINC, "code": "8867-4"}]}, **value}
    if use is not None:
        component["extension"] = [{"url": USE, "valueCoding": {"system": USES, "code": use}}]
    return component


# -- choice elements named by their stem --------------------------------------------------------


def test_value_discriminator_through_choice_stem(profiled: Validator, observation: dict[str, Any]) -> None:
    observation["component"] = [_component("primary"), _component("cc"), _component("cc")]
    assert errors(profiled.validate(observation, [STEM])) == []


def test_value_discriminator_through_choice_stem_still_discriminates(
    profiled: Validator, observation: dict[str, Any]
) -> None:
    observation["component"] = [_component("cc"), _component("other")]
    assert errors(profiled.validate(observation, [STEM])) == [
        ("structure", "Observation.component[1]"),
        ("required", "Observation.component"),
    ]


def test_type_discriminator_on_choice_stem(profiled: Validator, observation: dict[str, Any]) -> None:
    quantity = {"value": 72, "unit": "/min"}
    observation["component"] = [_component(valueString="calm"), _component(valueQuantity=quantity)]
    assert errors(profiled.validate(observation, [PAYLOAD])) == []
    observation["component"] = [_component(valueQuantity=quantity), _component(valueQuantity=quantity)]
    assert errors(profiled.validate(observation, [PAYLOAD])) == [
        ("required", "Observation.component"),
        ("structure", "Observation.component"),
    ]


# -- resolve() ------------------------------------------------------------------------------------


def _report(*references: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "performer": [{"reference": ref} for ref in references],
    }


def _organization(named: bool = True) -> dict[str, Any]:
    org: dict[str, Any] = {"resourceType": "Organization", "id": "o1"}
    if named:
        org["name"] = "Lab"
    else:  # still valid R4 (org-1 wants a name or an identifier), but not a NAMED_ORG
        org["identifier"] = [{"system": "urn:oid:1.2.208.176.1.1", "value": "123456789012345"}]
    return org


def _role() -> dict[str, Any]:
    return {"resourceType": "PractitionerRole", "id": "p1", "active": True}


def _message(report: dict[str, Any], organization: dict[str, Any], base: str = "urn:uuid:") -> dict[str, Any]:
    def url(kind: str, rid: str) -> str:
        return f"{base}{kind}/{rid}" if base.startswith("http") else f"urn:uuid:{rid}"

    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": url("DiagnosticReport", "r1"), "resource": report},
            {"fullUrl": url("Organization", "o1"), "resource": organization},
            {"fullUrl": url("PractitionerRole", "p1"), "resource": _role()},
        ],
    }


def _bundle_errors(validator: Validator, bundle: dict[str, Any], profile: str = REPORT) -> list[tuple[str, str]]:
    bundle["entry"][0]["resource"].setdefault("meta", {})["profile"] = [profile]
    return errors(validator.validate(bundle))


def test_resolve_by_absolute_full_url(profiled: Validator) -> None:
    bundle = _message(_report("urn:uuid:o1", "urn:uuid:p1"), _organization())
    assert _bundle_errors(profiled, bundle) == []


def test_resolve_relative_against_restful_full_url(profiled: Validator) -> None:
    base = "https://example.org/fhir/"
    bundle = _message(_report("Organization/o1", "PractitionerRole/p1/_history/2"), _organization(), base)
    assert _bundle_errors(profiled, bundle) == []


def test_resolve_relative_within_urn_uuid_message(profiled: Validator) -> None:
    bundle = _message(_report("Organization/o1"), _organization())
    assert _bundle_errors(profiled, bundle) == []


def test_resolved_target_must_conform_to_the_slice_profile(profiled: Validator) -> None:
    bundle = _message(_report("urn:uuid:o1"), _organization(named=False))
    assert _bundle_errors(profiled, bundle) == [
        ("structure", "Bundle.entry[0].resource.performer[0]"),
        ("required", "Bundle.entry[0].resource.performer"),
    ]


def test_unresolvable_reference_leaves_slice_unmatched_with_information(profiled: Validator) -> None:
    bundle = _message(_report("urn:uuid:o1", "Organization/elsewhere"), _organization())
    bundle["entry"][0]["resource"]["meta"] = {"profile": [REPORT]}
    issues = profiled.validate(bundle)
    assert errors(issues) == [("structure", "Bundle.entry[0].resource.performer[1]")]
    info = [i for i in issues if i.severity == "information" and "could not be resolved" in i.diagnostics]
    assert [i.expression[0] for i in info] == ["Bundle.entry[0].resource.performer[1]"]
    assert "elsewhere" not in info[0].diagnostics


def test_resolve_contained(profiled: Validator) -> None:
    report = _report("#org")
    report["contained"] = [{**_organization(), "id": "org"}]
    assert errors(profiled.validate(report, [REPORT])) == []
    report["contained"] = [{**_organization(named=False), "id": "org"}]
    assert errors(profiled.validate(report, [REPORT])) == [
        ("structure", "DiagnosticReport.performer[0]"),
        ("required", "DiagnosticReport.performer"),
    ]


def test_resolve_outside_a_bundle_cannot_match(profiled: Validator) -> None:
    issues = profiled.validate(_report("Organization/o1"), [REPORT])
    assert errors(issues) == [
        ("structure", "DiagnosticReport.performer[0]"),
        ("required", "DiagnosticReport.performer"),
    ]
    assert any(i.severity == "information" for i in issues)


def test_type_discriminator_on_resolve(profiled: Validator) -> None:
    bundle = _message(_report("urn:uuid:o1", "urn:uuid:p1"), _organization())
    assert _bundle_errors(profiled, bundle, REPORT_BY_TYPE) == []
    bundle = _message(_report("urn:uuid:o1"), _organization())
    assert _bundle_errors(profiled, bundle, REPORT_BY_TYPE) == [("required", "Bundle.entry[0].resource.performer")]


def _member(rid: str, other: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "meta": {"profile": [PANEL]},
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "hasMember": [{"reference": f"urn:uuid:{other}"}],
    }


def test_references_in_a_cycle_do_not_recurse(profiled: Validator) -> None:
    """Two panels each a member of the other: conformance of one probes the other, which probes
    the first again; the probe assumes conformance there instead of recursing without end."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:a", "resource": _member("a", "b")},
            {"fullUrl": "urn:uuid:b", "resource": _member("b", "a")},
        ],
    }
    assert errors(profiled.validate(bundle)) == []
    bundle["entry"][1]["resource"]["status"] = "preliminary"
    # b breaks its profile, so a's member does not conform, so neither does b's member a
    assert set(errors(profiled.validate(bundle))) == {
        ("value", "Bundle.entry[1].resource.status"),
        *(("structure", f"Bundle.entry[{i}].resource.hasMember[0]") for i in (0, 1)),
        *(("required", f"Bundle.entry[{i}].resource.hasMember") for i in (0, 1)),
    }
