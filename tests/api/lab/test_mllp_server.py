"""The MLLP listener of a live ``bindeled serve`` (both backends): a real socket client, results read over FHIR."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import httpx

from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.mllp import MllpClient
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM
from tests.api.conftest import LiveServer
from tests.lab.messages import LAB, oru


def synthetic_cpr() -> str:
    """A fresh synthetic CPR number (day of month plus 60), so tests never share a patient by accident."""
    return f"{61 + secrets.randbelow(28):02d}0390{secrets.randbelow(10_000):04d}"


def message(sample: str, control_id: str, cpr: str, *, status: str = "F", sent: str = "20260310120000") -> bytes:
    """A blood culture for ``sample`` and ``cpr`` (see ``tests.lab.messages.oru``)."""
    text = oru(control_id=control_id, status=status, sent=sent, pid3=f"{cpr}^^^CPR^NNDNK")
    return text.replace("S1000", sample).encode()


def send(server: LiveServer, *payloads: bytes) -> list[er7.Message]:
    """Send each payload on one MLLP connection and return the parsed ACKs."""

    async def run() -> list[bytes]:
        async with await MllpClient.connect("127.0.0.1", server.settings.mllp_port) as client:
            return [await client.send(payload) for payload in payloads]

    return [er7.parse(answer.decode()) for answer in asyncio.run(run())]


def msa(ack: er7.Message) -> tuple[str, str, str]:
    segment = ack.segments[1]
    return segment[1], segment[2], segment[3]


def erl(ack: er7.Message) -> tuple[str, ...]:
    err = ack.segments[2]
    return tuple(comp[0] for comp in err.field(2).repetitions[0][:3])


def reports(client: httpx.Client, sample: str) -> list[dict[str, object]]:
    found = client.get("/DiagnosticReport", params={"identifier": f"urn:bindeled:lab:{LAB}:sample|{sample}"})
    assert found.status_code == 200
    return [entry["resource"] for entry in found.json().get("entry", [])]


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def test_a_valid_message_is_acknowledged_and_served_over_fhir(server: LiveServer, client: httpx.Client) -> None:
    sample, control, cpr = unique("S"), unique("M"), synthetic_cpr()
    (ack,) = send(server, message(sample, control, cpr))
    assert msa(ack)[:2] == ("AA", control)
    (report,) = reports(client, sample)
    assert report["status"] == "final"
    patients = client.get("/Patient", params={"identifier": f"{CPR_SYSTEM}|{cpr}"}).json()["entry"]
    assert report["subject"] == {"reference": f"Patient/{patients[0]['resource']['id']}"}
    found = client.get("/Observation", params={"subject": report["subject"]["reference"]}).json()  # type: ignore[index]
    assert len(found["entry"]) == 4


def test_a_malformed_message_is_answered_ae_naming_segment_and_field(server: LiveServer, client: httpx.Client) -> None:
    control = unique("BAD")
    broken = oru(control_id=control, pid3="").encode()
    (ack,) = send(server, broken)
    assert msa(ack)[:2] == ("AE", control)
    assert erl(ack) == ("PID", "1", "3")
    listing = client.get("/$lab-quarantine").json()
    mine = [r for r in listing["parameter"] if {"name": "controlId", "valueString": control} in r["part"]]
    assert len(mine) == 1


def test_a_message_that_is_not_hl7_is_rejected_ar(server: LiveServer) -> None:
    (ack,) = send(server, b"this is not an HL7 message")
    assert msa(ack)[0] == "AR"
    assert erl(ack)[0] == "MSH"


def test_a_duplicate_is_acknowledged_again_and_changes_nothing(server: LiveServer, client: httpx.Client) -> None:
    sample, control, cpr = unique("S"), unique("M"), synthetic_cpr()
    first, second = send(server, message(sample, control, cpr), message(sample, control, cpr))
    assert msa(first)[:2] == msa(second)[:2] == ("AA", control)
    assert msa(second)[2] == "duplicate"
    (report,) = reports(client, sample)
    assert report["meta"]["versionId"] == "1"  # type: ignore[index]


def test_corrections_supersede_over_the_wire(server: LiveServer, client: httpx.Client) -> None:
    sample, cpr = unique("S"), synthetic_cpr()
    versions = [
        message(sample, unique("P"), cpr, status="P", sent="20260309080000"),
        message(sample, unique("F"), cpr, status="F", sent="20260310120000"),
        message(sample, unique("C"), cpr, status="C", sent="20260311090000"),
        message(sample, unique("LATE"), cpr, status="P", sent="20260308230000"),
    ]
    acks = send(server, *versions)
    assert [msa(a)[0] for a in acks] == ["AA"] * 4
    (report,) = reports(client, sample)
    assert report["status"] == "corrected"
    history = client.get(f"/DiagnosticReport/{report['id']}/_history").json()
    assert [e["resource"]["status"] for e in history["entry"]] == ["corrected", "final", "preliminary"]


def test_a_dropped_file_goes_to_the_same_store(server: LiveServer, client: httpx.Client) -> None:
    sample, cpr = unique("S"), synthetic_cpr()
    folder = Path(server.settings.lab_intake_dir)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f"{sample}.tmp"
    staged.write_bytes(message(sample, unique("FILE"), cpr).replace(b"\r", b"\r\n"))
    staged.rename(folder / f"{sample}.hl7")  # appear whole, as a careful sender would
    deadline = time.monotonic() + 30
    while not (folder / "done" / f"{sample}.hl7").exists():
        assert time.monotonic() < deadline, "the file was not picked up"
        time.sleep(0.05)
    assert [r["status"] for r in reports(client, sample)] == ["final"]
