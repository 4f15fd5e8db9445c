"""The operators' quarantine API on a live server: list, inspect, replay (as sent or corrected), discard."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer, token_for
from tests.api.lab.test_mllp_server import message, msa, reports, send, synthetic_cpr, unique
from tests.lab.messages import oru

Record = dict[str, Any]


def parts(record: Record) -> dict[str, Any]:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in record["part"]}


def record_of(body: dict[str, Any]) -> dict[str, Any]:
    """The record of a replay or discard answer, with the acknowledgement code when there is one."""
    found: dict[str, Any] = {}
    for parameter in body["parameter"]:
        found |= parts(parameter) if parameter["name"] == "record" else {parameter["name"]: parameter["valueCode"]}
    return found


def quarantined(server: LiveServer, client: httpx.Client, payload: bytes, control: str) -> dict[str, Any]:
    """Send a bad message over MLLP and return its listing entry."""
    assert msa(send(server, payload)[0])[0] in ("AE", "AR")
    listing = client.get("/$lab-quarantine").json()
    (record,) = [parts(r) for r in listing["parameter"] if parts(r).get("controlId") == control]
    return record


def test_the_listing_names_the_error_but_holds_no_message(server: LiveServer, client: httpx.Client) -> None:
    control, cpr = unique("NOPID"), synthetic_cpr()
    bad = message(unique("S"), control, cpr).replace(b"^^^CPR^NNDNK", b"")
    record = quarantined(server, client, bad, control)
    assert (record["segment"], record["field"], record["errorCode"], record["status"]) == ("PID", 3, "101", "held")
    assert record["source"] == "mllp"
    listing = client.get("/$lab-quarantine", params={"status": "all"})
    assert cpr not in listing.text
    detail = client.get(f"/$lab-quarantine/{record['id']}").json()
    (entry,) = detail["parameter"]
    assert base64.b64decode(parts(entry)["raw"]) == bad
    assert cpr in parts(entry)["message"]


def test_replay_with_a_corrected_message_stores_the_result(server: LiveServer, client: httpx.Client) -> None:
    sample, control, cpr = unique("S"), unique("FIX"), synthetic_cpr()
    good = message(sample, control, cpr)
    record = quarantined(server, client, good.replace(b"^^^CPR^NNDNK", b""), control)
    again = record_of(client.post(f"/$lab-quarantine/{record['id']}/$replay").json())
    assert (again["acknowledgement"], again["attempts"]) == ("AE", 1)
    answer = client.post(
        f"/$lab-quarantine/{record['id']}/$replay", content=good, headers={"Content-Type": "text/plain"}
    )
    fixed = record_of(answer.json())
    assert (fixed["acknowledgement"], fixed["status"], fixed["attempts"]) == ("AA", "replayed", 2)
    assert [r["status"] for r in reports(client, sample)] == ["final"]
    held = client.get("/$lab-quarantine").json()
    assert all(parts(r)["id"] != record["id"] for r in held.get("parameter", []))


def test_discard_keeps_the_record_for_audit(server: LiveServer, client: httpx.Client) -> None:
    control = unique("DROP")
    record = quarantined(server, client, oru(control_id=control, msh9="ADT^A01").encode(), control)
    assert record["segment"] == "MSH"
    discarded = record_of(client.post(f"/$lab-quarantine/{record['id']}/$discard").json())
    assert discarded["status"] == "discarded"
    listing = client.get("/$lab-quarantine", params={"status": "discarded"}).json()
    assert any(parts(r)["id"] == record["id"] for r in listing["parameter"])


def test_a_platform_operator_may_list_the_quarantine(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {token_for(server, 'operator')}", "Accept": "application/fhir+json"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as operator:
        assert operator.get("/$lab-quarantine").json()["resourceType"] == "Parameters"


def test_unknown_records_and_statuses_are_clear_errors(client: httpx.Client) -> None:
    missing = client.get("/$lab-quarantine/no-such-record")
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"
    bad = client.get("/$lab-quarantine", params={"status": "lost"})
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["status"]


@pytest.mark.parametrize("user", ["citizen", "gp"])
def test_only_operators_and_administrators_see_the_quarantine(server: LiveServer, user: str) -> None:
    purpose = {} if user == "citizen" else {"purpose": "LAB_READ"}
    headers = {"Authorization": f"Bearer {token_for(server, user, **purpose)}", "Accept": "application/fhir+json"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as other:
        refused = other.get("/$lab-quarantine")
        assert refused.status_code == 403
        assert other.post("/$lab-quarantine/x/$replay").status_code == 403


def test_a_platform_operator_sees_the_message_with_the_person_masked(server: LiveServer, client: httpx.Client) -> None:
    control, cpr = unique("MASK"), synthetic_cpr()
    bad = message(unique("S"), control, cpr).replace(b"OBX|2|SN|", b"OBX|2|QQ|")
    record = quarantined(server, client, bad, control)
    headers = {"Authorization": f"Bearer {token_for(server, 'operator')}", "Accept": "application/fhir+json"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as operator:
        (entry,) = operator.get(f"/$lab-quarantine/{record['id']}").json()["parameter"]
    shown = parts(entry)
    assert "raw" not in shown
    assert cpr not in shown["message"] and "Jensen" not in shown["message"]
    assert "PID|1||***||***||***|F" in shown["message"]
    assert "OBX|2|QQ|CLO^Cloxacillin^L" in shown["message"]
