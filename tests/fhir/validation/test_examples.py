"""Every official R4 example validates without errors, except a few that really break R4."""

from __future__ import annotations

from pathlib import Path

from bindeled.fhir.validation import Validator

from .conftest import errors, load

KNOWN_INVALID: dict[str, tuple[tuple[str, str], ...]] = {
    # DeviceMetric.parent is Reference(Device) in R4; the example points at DeviceDefinition/dc102.
    "DeviceMetric-example.json": (("invalid", "DeviceMetric.parent.reference"),),
    # DeviceUseStatement.reasonReference allows Condition, Observation, DiagnosticReport,
    # DocumentReference and Media; the example points at Procedure/example.
    "DeviceUseStatement-example.json": (("invalid", "DeviceUseStatement.reasonReference[0].reference"),),
    # MedicationRequest.dispenseRequest.performer is Reference(Organization); the example uses Practitioner/f001.
    "MedicationRequest-medrx0301.json": (("invalid", "MedicationRequest.dispenseRequest.performer.reference"),),
    # Observation.performer does not allow Encounter; the example uses Encounter/example.
    "Observation-clinical-gender.json": (("invalid", "Observation.performer[0].reference"),),
}


def test_official_examples(validator: Validator, examples_dir: Path) -> None:
    files = sorted(examples_dir.glob("*.json"))
    assert len(files) > 600
    found = {}
    for path in files:
        problems = errors(validator.validate(load(path)))
        if problems:
            found[path.name] = tuple(problems)
    assert found == KNOWN_INVALID
