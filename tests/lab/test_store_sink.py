"""The store-backed sink on SQLite and PostgreSQL: versions kept, current view as FHIR, idempotent, atomic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bindeled.errors import Unprocessable
from bindeled.fhir import jsonio
from bindeled.lab import (
    Outcome,
    QuarantineStatus,
    inspect,
    receive_er7,
    receive_fhir_bundle,
    receive_folder,
    replay,
)
from bindeled.lab.current_view import REFUSED
from bindeled.lab.hl7v2.ack import AckCode
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, ResultKey
from bindeled.lab.store_sink import StoreSink
from bindeled.store.base import HistoryQuery
from bindeled.store.guard import as_system
from tests.lab.messages import CPR, LAB, oru
from tests.lab.test_fhir_intake import bundle_from_hl7

pytestmark = pytest.mark.anyio

KEY = ResultKey(LAB, "S1000", "BLOD-D")
SAMPLE = f"urn:bindeled:lab:{LAB}:sample|S1000"

Resource = dict[str, Any]


async def search(sink: StoreSink, kind: str, params: list[tuple[str, str]]) -> list[Resource]:
    with as_system():
        _, result = await sink.repo.search(kind, params)
    return [stored.resource() for stored in result.resources]


async def current_report(sink: StoreSink) -> Resource:
    (report,) = await search(sink, "DiagnosticReport", [("identifier", SAMPLE)])
    return report


async def observations(sink: StoreSink, report: Resource) -> list[Resource]:
    ids = ",".join(ref["reference"].split("/")[1] for ref in report.get("result", []))
    return await search(sink, "Observation", [("_id", ids)]) if ids else []


async def test_a_result_becomes_fhir_resources_linked_to_the_patient_by_cpr(store_sink: StoreSink) -> None:
    ack = await receive_er7(oru().encode(), store_sink)
    assert ack.code is AckCode.ACCEPT
    (patient,) = await search(store_sink, "Patient", [("identifier", f"{CPR_SYSTEM}|{CPR}")])
    report = await current_report(store_sink)
    assert (report["status"], report["subject"]["reference"]) == ("final", f"Patient/{patient['id']}")
    systems = {coding["system"] for coding in report["code"]["coding"]}
    assert systems == {f"urn:bindeled:lab:{LAB}:codes", "urn:bindeled:synthetic:analysis"}  # local and mapped
    (specimen,) = await search(store_sink, "Specimen", [("_id", report["specimen"][0]["reference"].split("/")[1])])
    assert specimen["collection"]["collectedDateTime"].startswith("2026-03-08T08:15")
    found = await observations(store_sink, report)
    assert len(found) == 4
    by_code = {o["code"]["coding"][0]["code"]: o for o in found}
    organism = by_code["ISO"]["valueCodeableConcept"]["coding"]
    assert {c["code"] for c in organism} == {"SAUR", "3092008"}
    cloxacillin = by_code["CLO"]
    assert cloxacillin["valueQuantity"]["comparator"] == "<="
    assert str(cloxacillin["valueQuantity"]["value"]) == "0.25"
    assert cloxacillin["valueQuantity"]["unit"] == "mg/L"
    assert cloxacillin["interpretation"][0]["coding"][0]["code"] == "S"
    assert by_code["ERY"]["interpretation"][0]["coding"][0]["code"] == "R"
    assert str(by_code["VAN"]["valueQuantity"]["value"]) == "1.0"  # the raw decimal as sent


async def test_an_existing_patient_is_reused_not_duplicated(store_sink: StoreSink) -> None:
    with as_system():
        existing = await store_sink.repo.create(
            "Patient", {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": CPR}]}
        )
    await receive_er7(oru().encode(), store_sink)
    other = oru(control_id="MSG-OTHER").replace("S1000", "S2000")
    await receive_er7(other.encode(), store_sink)
    patients = await search(store_sink, "Patient", [("identifier", f"{CPR_SYSTEM}|{CPR}")])
    assert [p["id"] for p in patients] == [existing.stored.id]
    reports = await search(store_sink, "DiagnosticReport", [("subject", f"Patient/{existing.stored.id}")])
    assert len(reports) == 2


async def test_corrections_supersede_and_every_version_is_kept(store_sink: StoreSink) -> None:
    messages = [
        oru(status="P", control_id="V1", sent="20260309080000"),
        oru(status="F", control_id="V2", sent="20260310120000"),
        oru(status="C", control_id="V3", sent="20260311090000"),
        oru(status="P", control_id="V0", sent="20260308230000"),  # an older preliminary arriving last
    ]
    for text in messages:
        assert (await receive_er7(text.encode(), store_sink)).code is AckCode.ACCEPT
    report = await current_report(store_sink)
    assert report["status"] == "corrected"
    assert [v.control_id for v in await store_sink.versions(KEY)] == ["V1", "V2", "V3", "V0"]
    current = await store_sink.current(KEY)
    assert current is not None and current.control_id == "V3"
    with as_system():
        history, _ = await store_sink.repo.history(HistoryQuery("DiagnosticReport", report["id"]))
    assert [h.resource()["status"] for h in history] == ["corrected", "final", "preliminary"]


async def test_the_same_message_twice_changes_nothing(store_sink: StoreSink) -> None:
    first = await receive_er7(oru().encode(), store_sink)
    before = await current_report(store_sink)
    second = await receive_er7(oru().encode(), store_sink)
    assert (first.code, second.code, second.duplicate) == (AckCode.ACCEPT, AckCode.ACCEPT, True)
    after = await current_report(store_sink)
    assert after["meta"]["versionId"] == before["meta"]["versionId"] == "1"
    assert len(await store_sink.versions(KEY)) == 1
    result = (await store_sink.versions(KEY))[0]
    assert await store_sink.store_all([result]) == [Outcome.DUPLICATE]


async def test_an_observation_dropped_by_a_correction_leaves_the_current_view(store_sink: StoreSink) -> None:
    await receive_er7(oru(control_id="V1").encode(), store_sink)
    fewer = (
        "OBX|1|CWE|ISO^Isolat^L|1|SAUR^Staphylococcus aureus^L||||||C",
        "OBX|2|SN|CLO^Cloxacillin^L|1|<=^0.25|mg/L||S|||C||||||MIC",
    )
    corrected = oru(status="C", control_id="V2", sent="20260311090000", obx=fewer)
    await receive_er7(corrected.encode(), store_sink)
    report = await current_report(store_sink)
    assert len(report["result"]) == 2
    all_observations = await search(store_sink, "Observation", [("subject", report["subject"]["reference"])])
    assert len(all_observations) == 2


async def test_refused_display_is_labelled_on_every_resource(store_sink: StoreSink) -> None:
    refused = oru().replace("ORC|RE|R1000", "ARV|1|A|ALL^All^HL70717|PAT^Patient request^HL70719\rORC|RE|R1000")
    await receive_er7(refused.encode(), store_sink)
    report = await current_report(store_sink)
    assert REFUSED in report["meta"]["security"]
    assert all(REFUSED in o["meta"]["security"] for o in await observations(store_sink, report))
    withdrawn = refused.replace("ARV|1|A|", "ARV|1|D|").replace("MSG0001", "MSG0002").replace("|F\r", "|C\r")
    await receive_er7(withdrawn.replace("20260310120000", "20260312120000").encode(), store_sink)
    assert "security" not in (await current_report(store_sink)).get("meta", {})


async def test_a_fhir_bundle_goes_to_the_same_current_view(store_sink: StoreSink) -> None:
    await receive_er7(oru(control_id="V1").encode(), store_sink)
    outcomes = await receive_fhir_bundle(bundle_from_hl7("C", "V2", "20260311090000"), store_sink)
    assert outcomes == [Outcome.CURRENT]
    assert (await current_report(store_sink))["status"] == "corrected"


async def test_a_message_is_stored_all_or_nothing(store_sink: StoreSink) -> None:
    bundle = bundle_from_hl7()
    text = jsonio.encode_str(bundle).replace("S1000", "S9999")
    for entry in bundle["entry"]:  # the same result for another sample, under other ids
        text = text.replace(entry["resource"]["id"], entry["resource"]["id"][:-4] + "beef")
    second = jsonio.decode(text)
    for entry in second["entry"]:
        if entry["resource"]["resourceType"] == "Observation":
            entry["resource"]["valueQuantity"] = {"value": "not a number"}
    bundle["entry"] += second["entry"]
    with pytest.raises(Unprocessable):
        await receive_fhir_bundle(bundle, store_sink)
    assert await search(store_sink, "DiagnosticReport", [("identifier", SAMPLE)]) == []
    assert await store_sink.versions(KEY) == []


async def test_quarantine_is_kept_in_the_store_and_replayed(store_sink: StoreSink) -> None:
    broken = oru(pid3="", control_id="NO-PID3").encode()
    ack = await receive_er7(broken, store_sink)
    assert ack.code is AckCode.ERROR
    (record,) = await inspect(store_sink)
    assert (record.raw, record.control_id, record.error.where.segment_id, record.error.where.field) == (
        broken,
        "NO-PID3",
        "PID",
        3,
    )
    again = await replay(store_sink, record.id)
    assert again.code is AckCode.ERROR
    assert (await store_sink.quarantine_record(record.id)).attempts == 1  # type: ignore[union-attr]
    fixed = await replay(store_sink, record.id, corrected=oru(control_id="NO-PID3").encode())
    assert fixed.code is AckCode.ACCEPT
    assert await inspect(store_sink) == []
    (done,) = await inspect(store_sink, QuarantineStatus.REPLAYED)
    assert done.attempts == 2
    assert (await current_report(store_sink))["status"] == "final"


async def test_file_intake_stores_through_the_same_sink(store_sink: StoreSink, tmp_path: Path) -> None:
    (tmp_path / "batch.hl7").write_bytes((oru(control_id="F1") + oru(control_id="F2", pid3="")).encode())
    (outcome,) = await receive_folder(tmp_path, store_sink)
    assert [ack.code for ack in outcome.acks] == [AckCode.ACCEPT, AckCode.ERROR]
    assert outcome.moved_to == tmp_path / "quarantine" / "batch.hl7"
    assert (await current_report(store_sink))["status"] == "final"
    (held,) = await inspect(store_sink)
    assert (held.control_id, held.source) == ("F2", "file:batch.hl7")
