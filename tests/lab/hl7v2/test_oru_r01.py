"""ORU^R01 → FHIR: patient by CPR, specimen, report status, findings, quantities, susceptibilities, codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.lab.codes import CodeMap
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.errors import ErrorCode, Hl7Error
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, MappedResult, ResultKey, map_oru_r01
from bindeled.lab.synthetic import synthetic_stream
from tests.lab.messages import CPR, LAB, mutated_messages, oru, urine


def mapped(text: str, codes: CodeMap | None = None) -> MappedResult:
    results = map_oru_r01(er7.parse(text), codes).results
    assert len(results) == 1
    return results[0]


def of_type(result: MappedResult, kind: str) -> list[dict[str, Any]]:
    return [r for r in result.resources if r["resourceType"] == kind]


def by_local_code(result: MappedResult, code: str) -> dict[str, Any]:
    return next(o for o in of_type(result, "Observation") if o["code"]["coding"][0]["code"] == code)


def test_key_status_and_patient() -> None:
    result = mapped(oru())
    assert result.key == ResultKey(LAB, "S1000", "BLOD-D")
    assert result.status == "final"
    assert result.control_id == "MSG0001"
    assert result.patient["identifier"] == [{"use": "official", "system": CPR_SYSTEM, "value": CPR}]
    assert result.patient["name"] == [{"use": "official", "family": "Jensen", "given": ["Anne"]}]
    assert result.patient["gender"] == "female"


@pytest.mark.parametrize(
    ("obr25", "status"),
    [("P", "preliminary"), ("F", "final"), ("C", "corrected"), ("A", "partial"), ("X", "cancelled")],
)
def test_report_status_from_obr25(obr25: str, status: str) -> None:
    assert mapped(oru(status=obr25)).report["status"] == status


def test_specimen_material_site_and_times() -> None:
    result = mapped(oru())
    (specimen,) = of_type(result, "Specimen")
    assert specimen["type"]["coding"][0]["code"] == "BLOD"
    assert specimen["type"]["coding"][1]["code"] == "MAT-0001"
    assert specimen["collection"]["collectedDateTime"] == "2026-03-08T08:15:00+01:00"
    assert specimen["collection"]["bodySite"]["coding"][0]["code"] == "ARM"
    assert specimen["receivedTime"] == "2026-03-08T09:30:00+01:00"
    assert specimen["accessionIdentifier"]["value"] == "S1000"
    report = result.report
    assert report["specimen"] == [{"reference": f"Specimen/{specimen['id']}"}]
    assert report["effectiveDateTime"] == "2026-03-08T08:15:00+01:00"
    assert report["issued"] == "2026-03-10T12:00:00+01:00"


def test_organism_is_coded_with_local_and_national_codes() -> None:
    organism = by_local_code(mapped(oru()), "ISO")["valueCodeableConcept"]
    local, national = organism["coding"]
    assert local == {
        "system": f"urn:bindeled:lab:{LAB}:codes",
        "code": "SAUR",
        "display": "Staphylococcus aureus",
        "userSelected": True,
    }
    assert (national["system"], national["code"]) == ("http://snomed.info/sct", "3092008")


def test_susceptibility_keeps_value_unit_qualifier_and_category_apart() -> None:
    result = mapped(oru())
    clo = by_local_code(result, "CLO")
    assert clo["valueQuantity"] == {
        "value": Decimal("0.25"),
        "comparator": "<=",
        "unit": "mg/L",
        "system": "http://unitsofmeasure.org",
        "code": "mg/L",
    }
    assert clo["interpretation"][0]["coding"][0]["code"] == "S"
    assert clo["extension"][0]["valueString"] == "<=^0.25"
    assert clo["method"] == {"text": "MIC"}
    assert clo["code"]["coding"][1]["code"] == "J01CF02"
    van = by_local_code(result, "VAN")
    assert str(van["valueQuantity"]["value"]) == "1.0"  # the reported precision is kept
    assert "comparator" not in van["valueQuantity"]
    ery = by_local_code(result, "ERY")
    assert (ery["valueQuantity"]["comparator"], ery["interpretation"][0]["coding"][0]["code"]) == (">", "R")


def test_isolate_groups_its_susceptibilities() -> None:
    result = mapped(oru())
    members = {m["reference"] for m in by_local_code(result, "ISO")["hasMember"]}
    assert members == {f"Observation/{by_local_code(result, c)['id']}" for c in ("CLO", "VAN", "ERY")}
    assert result.report["result"] == [{"reference": f"Observation/{o['id']}"} for o in of_type(result, "Observation")]


def test_colony_count_in_ucum_and_unmapped_codes_reported() -> None:
    result = mapped(urine())
    count = by_local_code(result, "KIM")["valueQuantity"]
    assert count == {
        "value": Decimal(100000),
        "comparator": ">=",
        "unit": "CFU/mL",
        "system": "http://unitsofmeasure.org",
        "code": "{CFU}/mL",
    }
    assert by_local_code(result, "MEC")["valueQuantity"]["value"] == Decimal("0.50")
    unknown = by_local_code(result, "ZZZ")
    assert len(unknown["code"]["coding"]) == 1  # never guessed
    assert result.unmapped == ("ZZZ",)


def test_laboratory_specific_mapping_wins() -> None:
    table = "laboratory,kind,local_code,national_system,national_code,national_display\n"
    table += f"*,organism,SAUR,urn:x,A,any\n{LAB},organism,SAUR,urn:x,B,this lab\n"
    organism = by_local_code(mapped(oru(), CodeMap.from_csv(table)), "ISO")["valueCodeableConcept"]
    assert organism["coding"][1]["code"] == "B"


def test_ids_are_deterministic_per_message_and_differ_between_versions() -> None:
    first, again, final = (
        mapped(oru(status="P", control_id="A")),
        mapped(oru(status="P", control_id="A")),
        mapped(oru(control_id="B")),
    )
    assert [r["id"] for r in first.resources] == [r["id"] for r in again.resources]
    assert first.report["id"] != final.report["id"]


def test_mapped_resources_are_valid_r4(definitions: Definitions) -> None:
    validator = Validator(definitions)
    for text in [oru(), urine(), *synthetic_stream(15, seed=7)]:
        for result in map_oru_r01(er7.parse(text)).results:
            for resource in (result.patient, *result.resources):
                errors = [i for i in validator.validate(resource) if i.is_error]
                assert errors == [], (resource["resourceType"], errors)


# --- errors name segment, sequence and field --------------------------------------------------------------

_OK_OBX = "OBX|1|CWE|ISO^Isolat^L|1|SAUR^S. aureus^L||||||F"


@pytest.mark.parametrize(
    ("text", "location", "code"),
    [
        (oru(pid3=""), ("PID", 1, 3), ErrorCode.REQUIRED_FIELD_MISSING),
        (oru(pid3="123^^^HOSP^MR"), ("PID", 1, 3), ErrorCode.REQUIRED_FIELD_MISSING),
        (oru(pid3="3102801234^^^CPR^NNDNK"), ("PID", 1, 3), ErrorCode.DATA_TYPE),
        (oru(obx=(_OK_OBX, "OBX|2|XY|CLO^C^L|1|S||||||F")), ("OBX", 2, 2), ErrorCode.DATA_TYPE),
        (oru(obx=(_OK_OBX, "OBX|2|NM|CLO^C^L|1|<=0.25|mg/L||S|||F")), ("OBX", 2, 5), ErrorCode.DATA_TYPE),
        (oru(obx=(_OK_OBX, "OBX|2|SN|CLO^C^L|1|<>^1|mg/L||S|||F")), ("OBX", 2, 5), ErrorCode.DATA_TYPE),
        (oru(obx=(_OK_OBX, "OBX|2|ST|||x||||||F")), ("OBX", 2, 3), ErrorCode.REQUIRED_FIELD_MISSING),
        (oru(obx=(_OK_OBX, "OBX|2|ST|X^x^L||x||||||Q")), ("OBX", 2, 11), ErrorCode.TABLE_VALUE_NOT_FOUND),
        (oru(obx=("OBX|1|ST|X^x^L||x||||||F|||2026133",)), ("OBX", 1, 14), ErrorCode.DATA_TYPE),
        (oru(status="Q"), ("OBR", 1, 25), ErrorCode.TABLE_VALUE_NOT_FOUND),
        (oru().replace("|S1000|", "||"), ("OBR", 1, 3), ErrorCode.REQUIRED_FIELD_MISSING),
        (oru().replace("PID|", "ZPI|"), ("PID", 1, 0), ErrorCode.SEGMENT_SEQUENCE),
    ],
)
def test_content_errors_are_located(text: str, location: tuple[str, int, int], code: ErrorCode) -> None:
    with pytest.raises(Hl7Error) as raised:
        map_oru_r01(er7.parse(text))
    where = raised.value.where
    assert (where.segment_id, where.sequence, where.field) == location
    assert raised.value.hl7_code is code
    assert not raised.value.reject
    assert CPR not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "field", "code"),
    [
        (oru(msh9="ADT^A01"), 9, ErrorCode.UNSUPPORTED_MESSAGE_TYPE),
        (oru(msh9="ORU^R30"), 9, ErrorCode.UNSUPPORTED_EVENT),
        (oru(control_id=""), 10, ErrorCode.REQUIRED_FIELD_MISSING),
        (oru(sent="yesterday"), 7, ErrorCode.DATA_TYPE),
        (oru().replace("|P|2.5|", "|Q|2.5|"), 11, ErrorCode.UNSUPPORTED_PROCESSING_ID),
        (oru().replace("|P|2.5|", "|P|3.0|"), 12, ErrorCode.UNSUPPORTED_VERSION),
    ],
)
def test_header_errors_reject(text: str, field: int, code: ErrorCode) -> None:
    with pytest.raises(Hl7Error) as raised:
        map_oru_r01(er7.parse(text))
    assert (raised.value.where.segment_id, raised.value.where.field) == ("MSH", field)
    assert raised.value.hl7_code is code
    assert raised.value.reject


# --- property: mutated messages never raise anything but Hl7Error ----------------------------------------


@settings(max_examples=400, deadline=None)
@given(mutated_messages())
def test_mutated_messages_map_or_raise_hl7error(text: str) -> None:
    try:
        message = er7.parse(text)
        results = map_oru_r01(message).results
    except Hl7Error as error:
        assert error.where.segment_id
        assert error.message
    else:
        assert all(r.report["resourceType"] == "DiagnosticReport" for r in results)


def test_notes_become_conclusion_and_observation_notes() -> None:
    text = oru().replace("\rOBX|1|", "\rNTE|1|L|Growth after 14 h~Gram-positive cocci\rOBX|1|", 1)
    text = text.replace("\rOBX|2|", "\rNTE|1|L|Called to ward 12:40\rOBX|2|", 1)
    result = mapped(text)
    assert result.report["conclusion"] == "Growth after 14 h\nGram-positive cocci"
    assert by_local_code(result, "ISO")["note"] == [{"text": "Called to ward 12:40"}]
    assert "note" not in by_local_code(result, "CLO")


def test_two_analyses_in_one_message() -> None:
    second = (
        "OBR|2|R1001|S1001|URIN-D^Urindyrkning^L|||20260308081500||||||||||||||||||P\r"
        "OBX|1|CWE|ISO^Isolat^L|1|ECOL^E. coli^L||||||P\r"
    )
    results = map_oru_r01(er7.parse(oru() + second)).results
    assert [r.key for r in results] == [ResultKey(LAB, "S1000", "BLOD-D"), ResultKey(LAB, "S1001", "URIN-D")]
    assert [r.status for r in results] == ["final", "preliminary"]
    assert results[0].patient is results[1].patient
    assert len([r for r in results[1].resources if r["resourceType"] == "Observation"]) == 1
