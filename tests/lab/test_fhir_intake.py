"""FHIR Bundles with DiagnosticReports: the same keys, versions and codes as the HL7 v2 channel."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bindeled.errors import Unprocessable
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.lab import MemorySink, Outcome, map_fhir_bundle, receive_fhir_bundle
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, map_oru_r01
from tests.lab.messages import CPR, LAB, oru

pytestmark = pytest.mark.anyio


def bundle_from_hl7(status: str = "F", control_id: str = "MSG0001", sent: str = "20260310120000") -> dict[str, Any]:
    """A collection Bundle as another system would post it, built from the HL7 mapping of the same result."""
    result = map_oru_r01(er7.parse(oru(status=status, control_id=control_id, sent=sent))).results[0]
    resources = [result.patient, *result.resources]
    for resource in resources:
        for element in ("code", "valueCodeableConcept"):  # a sender that knows only its local codes
            if element in resource:
                resource[element]["coding"] = resource[element]["coding"][:1]
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": copy.deepcopy(r)} for r in resources]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"value": f"FHIR-{control_id}"},
        "entry": entries,
    }


def test_same_key_and_status_as_the_hl7_channel() -> None:
    hl7_result = map_oru_r01(er7.parse(oru())).results[0]
    (result,) = map_fhir_bundle(bundle_from_hl7())
    assert result.key == hl7_result.key
    assert (result.status, result.control_id, result.cpr) == ("final", "FHIR-MSG0001", CPR)
    assert result.message_time == hl7_result.message_time


def test_references_rewritten_and_mapped_codes_added() -> None:
    (result,) = map_fhir_bundle(bundle_from_hl7())
    kinds = [r["resourceType"] for r in result.resources]
    assert kinds[:2] == ["Specimen", "DiagnosticReport"]
    assert kinds.count("Observation") == 4
    ids = {f"{r['resourceType']}/{r['id']}" for r in result.resources}
    report = result.report
    assert {ref["reference"] for ref in report["result"]} <= ids
    assert report["specimen"][0]["reference"] in ids
    assert all(
        r["subject"] == {"reference": f"Patient/{result.patient['id']}"} for r in result.resources if "subject" in r
    )
    assert report["code"]["coding"][1]["code"] == "ANA-0001"
    organism = next(r for r in result.resources if "valueCodeableConcept" in r)
    assert organism["valueCodeableConcept"]["coding"][1]["code"] == "3092008"
    assert result.patient["identifier"][0] == {"use": "official", "system": CPR_SYSTEM, "value": CPR}


def test_mapped_bundle_resources_are_valid(definitions: Definitions) -> None:
    validator = Validator(definitions)
    (result,) = map_fhir_bundle(bundle_from_hl7())
    for resource in (result.patient, *result.resources):
        assert [i for i in validator.validate(resource) if i.is_error] == []


async def test_corrections_across_channels(sink: MemorySink) -> None:
    assert await receive_fhir_bundle(bundle_from_hl7("F", "V2"), sink) == [Outcome.CURRENT]
    assert await receive_fhir_bundle(bundle_from_hl7("C", "V3", "20260311090000"), sink) == [Outcome.CURRENT]
    assert await receive_fhir_bundle(bundle_from_hl7("P", "V1", "20260309080000"), sink) == [Outcome.HISTORY]
    assert await receive_fhir_bundle(bundle_from_hl7("C", "V3", "20260311090000"), sink) == [Outcome.DUPLICATE]
    (key,) = sink.result_keys()
    current = await sink.current(key)
    assert current is not None
    assert (current.control_id, key.laboratory) == ("FHIR-V3", LAB)


def _break(path: str) -> dict[str, Any]:
    bundle = bundle_from_hl7()
    report = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    patient = bundle["entry"][0]["resource"]
    if path == "performer":
        report["performer"] = []
    elif path == "issued":
        report["issued"] = "2026-03-10T12:00:00"
    elif path == "subject":
        patient["identifier"] = []
    elif path == "code":
        report["code"] = {"text": "culture"}
    elif path == "identifier":
        del bundle["identifier"]
    return bundle


@pytest.mark.parametrize(
    ("broken", "location"),
    [
        ("performer", "Bundle.entry[2].resource.performer"),
        ("issued", "Bundle.entry[2].resource.issued"),
        ("subject", "Bundle.entry[2].resource.subject"),
        ("code", "Bundle.entry[2].resource.code"),
        ("identifier", "Bundle.identifier"),
    ],
)
def test_problems_are_located_without_values(broken: str, location: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        map_fhir_bundle(_break(broken))
    assert raised.value.location == (location,)
    assert CPR not in raised.value.message


def test_not_a_result_bundle() -> None:
    with pytest.raises(Unprocessable):
        map_fhir_bundle({"resourceType": "Bundle", "type": "searchset", "entry": []})
    with pytest.raises(Unprocessable):
        map_fhir_bundle({"resourceType": "Bundle", "type": "collection", "id": "x", "entry": []})
