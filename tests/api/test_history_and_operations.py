"""History (instance, type, system; _since, _at, paging), $validate and the CapabilityStatement."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.api.test_crud import JSON, create, patient


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_instance_history_newest_first(client: httpx.Client) -> None:
    body = create(client, patient()).json()
    for gender in ("male", "female"):
        body = client.put(f"/Patient/{body['id']}", json={**body, "gender": gender}, headers=JSON).json()
    client.delete(f"/Patient/{body['id']}")
    history = client.get(f"/Patient/{body['id']}/_history").json()
    assert history["type"] == "history" and history["total"] == 4
    versions = [e["response"]["etag"] for e in history["entry"]]
    assert versions == ['W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']
    assert "resource" not in history["entry"][0]
    assert history["entry"][0]["request"] == {"method": "DELETE", "url": f"Patient/{body['id']}"}
    assert history["entry"][1]["resource"]["gender"] == "female"
    assert client.get(f"/Patient/{uuid.uuid4()}/_history").status_code == 404


def test_history_since_and_at(client: httpx.Client) -> None:
    body = create(client, patient()).json()
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    client.put(f"/Patient/{body['id']}", json={**body, "gender": "male"}, headers=JSON)
    since = client.get(f"/Patient/{body['id']}/_history", params={"_since": _instant(between)}).json()
    assert [e["response"]["etag"] for e in since["entry"]] == ['W/"2"']
    at = client.get(f"/Patient/{body['id']}/_history", params={"_at": _instant(between)}).json()
    assert [e["response"]["etag"] for e in at["entry"]] == ['W/"1"']
    bad = client.get(f"/Patient/{body['id']}/_history", params={"_since": "yesterday"})
    assert bad.status_code == 400
    naive = client.get(f"/Patient/{body['id']}/_history", params={"_since": "2024-01-01T00:00:00"})
    assert naive.status_code == 400


def test_type_and_system_history_paging_is_stable(client: httpx.Client) -> None:
    start = datetime.now(UTC)
    time.sleep(0.01)
    made = [create(client, {**patient(), "resourceType": "Patient"}).json()["id"] for _ in range(5)]
    page = client.get("/Patient/_history", params={"_since": _instant(start), "_count": 2}).json()
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        create(client, patient())  # a write while paging must not shift the pages
        page = client.get(nxt[0].split("/fhir", 1)[1]).json()
    assert pages == 3
    assert sorted(seen) == sorted(made)
    system = client.get("/_history", params={"_since": _instant(start), "_count": 100}).json()
    assert {e["resource"]["id"] for e in system["entry"]} >= set(made)


def test_validate_operation(client: httpx.Client) -> None:
    good = client.post("/Patient/$validate", json=patient(), headers=JSON)
    assert good.status_code == 200
    assert all(i["severity"] not in ("error", "fatal") for i in good.json()["issue"])
    bad = client.post("/Patient/$validate", json=patient(gender="x"), headers=JSON)
    assert bad.status_code == 200
    assert any(i["severity"] == "error" for i in bad.json()["issue"])
    wrapped: dict[str, Any] = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": patient()}]}
    assert client.post("/Patient/$validate", json=wrapped, headers=JSON).status_code == 200
    id_ = create(client, patient()).json()["id"]
    stored = client.get(f"/Patient/{id_}/$validate")
    assert stored.status_code == 200
    assert client.post("/Patient/$validate", json={"resourceType": "Observation"}, headers=JSON).status_code == 400


def test_capability_statement(client: httpx.Client) -> None:
    response = client.get("/metadata")
    assert response.status_code == 200
    cap = response.json()
    assert cap["resourceType"] == "CapabilityStatement" and cap["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in cap["rest"][0]["resource"]}
    assert len(resources) == 146
    patient_entry = resources["Patient"]
    assert {i["code"] for i in patient_entry["interaction"]} >= {"read", "vread", "update", "patch", "delete", "create"}
    assert any(p["name"] == "identifier" for p in patient_entry["searchParam"])
    assert {i["code"] for i in cap["rest"][0]["interaction"]} == {
        "transaction",
        "batch",
        "search-system",
        "history-system",
    }
    xml = client.get("/metadata", headers={"Accept": "application/fhir+xml"})
    assert xml.status_code == 200 and b"<CapabilityStatement" in xml.content


def test_capability_statement_lists_the_operations(client: httpx.Client) -> None:
    cap = client.get("/metadata").json()
    system = {o["name"]: o["definition"] for o in cap["rest"][0]["operation"]}
    assert system["process-message"] == "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
    assert {"message-status", "reindex", "haiba-report"} <= set(system)
    resources = {r["type"]: r for r in cap["rest"][0]["resource"]}
    assert {"validate", "everything", "overview"} <= {o["name"] for o in resources["Patient"]["operation"]}
    assert "import-apd" in {o["name"] for o in resources["Appointment"]["operation"]}
    websocket = [e["valueUri"] for e in cap["rest"][0]["extension"] if e["url"].endswith("-websocket")]
    assert websocket and websocket[0].startswith("ws://") and websocket[0].endswith("/fhir/websocket")


def test_every_response_has_a_request_id(client: httpx.Client) -> None:
    response = client.get("/metadata", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    assert client.get("/metadata").headers["X-Request-Id"]


DK_PATIENT = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-patient"


def _dk_patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "0107729995"}],
        "name": [{"use": "official", "family": "Berggren", "given": ["Max"]}],
        "gender": "male",
    }


def test_validate_against_a_dk_core_profile(client: httpx.Client) -> None:
    good = client.post("/Patient/$validate", params={"profile": DK_PATIENT}, json=_dk_patient(), headers=JSON)
    assert good.status_code == 200
    assert not [i for i in good.json()["issue"] if i["severity"] == "error"], good.json()
    no_identifier = {k: v for k, v in _dk_patient().items() if k != "identifier"}
    bad = client.post("/Patient/$validate", params={"profile": DK_PATIENT}, json=no_identifier, headers=JSON)
    errors = [i for i in bad.json()["issue"] if i["severity"] == "error"]
    assert errors and any("Patient.identifier" in e for i in errors for e in i.get("expression", [])), errors


def test_claimed_profile_is_enforced_on_write(client: httpx.Client) -> None:
    claimed = {k: v for k, v in _dk_patient().items() if k != "identifier"}
    claimed["meta"] = {"profile": [DK_PATIENT]}
    assert client.post("/Patient", json=claimed, headers=JSON).status_code == 422
    ok = {**_dk_patient(), "meta": {"profile": [DK_PATIENT]}}
    assert client.post("/Patient", json=ok, headers=JSON).status_code == 201
