"""Transactions (all or nothing, urn:uuid and conditional references) and batches."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_crud import JSON, create, patient


def _txn(*entries: dict[str, Any], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _count(client: httpx.Client, type_: str, criteria: str) -> int:
    return int(client.get(f"/{type_}?{criteria}&_total=accurate&_count=0").json().get("total", 0))


def test_transaction_resolves_urn_uuid_references(client: httpx.Client) -> None:
    pat_url, enc_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    bundle = _txn(
        {
            "fullUrl": enc_url,
            "resource": {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": pat_url},
            },
            "request": {"method": "POST", "url": "Encounter"},
        },
        {"fullUrl": pat_url, "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
    )
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    enc_loc, pat_loc = (e["response"]["location"] for e in result["entry"])
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created", "201 Created"]
    pat_id = pat_loc.split("/Patient/")[1].split("/")[0]
    enc = client.get(enc_loc.split("/fhir")[1].split("/_history")[0]).json()
    assert enc["subject"]["reference"] == f"Patient/{pat_id}"


def test_transaction_is_all_or_nothing(client: httpx.Client) -> None:
    marker = str(uuid.uuid4())
    good = {**patient(), "identifier": [{"system": "urn:test", "value": marker}]}
    bad = {**patient(), "identifier": [{"system": "urn:test", "value": marker}], "gender": "wrong"}
    bundle = _txn(
        {"resource": good, "request": {"method": "POST", "url": "Patient"}},
        {"resource": bad, "request": {"method": "POST", "url": "Patient"}},
    )
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 422
    issues = response.json()["issue"]
    assert issues and all(i["severity"] in ("error", "fatal") for i in issues)
    assert _count(client, "Patient", f"identifier=urn:test|{marker}") == 0


def test_transaction_order_delete_before_create(client: httpx.Client) -> None:
    existing = create(client, patient()).json()
    bundle = _txn(
        {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "DELETE", "url": f"Patient/{existing['id']}"}},
        {"request": {"method": "GET", "url": f"Patient/{existing['id']}/_history/1"}},
    )
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created", "204 No Content", "200 OK"]
    assert client.get(f"/Patient/{existing['id']}").status_code == 410


def test_transaction_conditional_create_and_reference(client: httpx.Client) -> None:
    value = str(uuid.uuid4())
    existing = create(client, {**patient(), "identifier": [{"system": "urn:test", "value": value}]}).json()
    bundle = _txn(
        {
            "fullUrl": "urn:uuid:" + str(uuid.uuid4()),
            "resource": {**patient(), "identifier": [{"system": "urn:test", "value": value}]},
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier=urn:test|{value}"},
        },
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "x"},
                "subject": {"reference": f"Patient?identifier=urn:test|{value}"},
            },
            "request": {"method": "POST", "url": "Observation"},
        },
    )
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 200, response.text
    first, second = response.json()["entry"]
    assert first["response"]["status"] == "200 OK"
    assert first["resource"]["id"] == existing["id"]
    assert second["resource"]["subject"]["reference"] == f"Patient/{existing['id']}"


def test_transaction_conditional_reference_without_match_fails(client: httpx.Client) -> None:
    bundle = _txn(
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "x"},
                "subject": {"reference": f"Patient?identifier=urn:test|{uuid.uuid4()}"},
            },
            "request": {"method": "POST", "url": "Observation"},
        }
    )
    assert client.post("/", json=bundle, headers=JSON).status_code == 412


def test_transaction_put_and_conditional_put(client: httpx.Client) -> None:
    id_ = f"txn-{uuid.uuid4().hex[:10]}"
    value = str(uuid.uuid4())
    bundle = _txn(
        {"resource": patient(id=id_), "request": {"method": "PUT", "url": f"Patient/{id_}"}},
        {
            "resource": {**patient(), "identifier": [{"system": "urn:test", "value": value}]},
            "request": {"method": "PUT", "url": f"Patient?identifier=urn:test|{value}"},
        },
    )
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 200, response.text
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["201 Created", "201 Created"]
    assert client.get(f"/Patient/{id_}").status_code == 200


def test_malformed_transactions(client: httpx.Client) -> None:
    assert client.post("/", json={"resourceType": "Bundle", "type": "collection"}, headers=JSON).status_code == 400
    no_request = _txn({"resource": patient()})
    response = client.post("/", json=no_request, headers=JSON)
    assert response.status_code == 400
    assert "Bundle.entry[0].request" in response.json()["issue"][0]["expression"]
    same_full_url = _txn(
        {"fullUrl": "urn:uuid:1", "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:1", "resource": patient(), "request": {"method": "POST", "url": "Patient"}},
    )
    assert client.post("/", json=same_full_url, headers=JSON).status_code == 400


def test_batch_reports_each_entry(client: httpx.Client) -> None:
    bundle = _txn(
        {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": patient(gender="bad"), "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": f"Patient/{uuid.uuid4()}"}},
        kind="batch",
    )
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 200
    result = response.json()
    assert result["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses[0] == "201 Created" and statuses[1] == "422" and statuses[2] == "404"
    assert result["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"


@pytest.mark.slow
def test_synthea_bundles_post_and_every_reference_resolves(client: httpx.Client, shared_dir: Path) -> None:
    files = sorted((shared_dir / "testdata" / "synthea-r4-bundles").glob("*.json"))
    assert len(files) == 25
    for path in files:
        response = client.post("/", content=path.read_bytes(), headers=JSON)
        assert response.status_code == 200, (path.name, response.text[:2000])
        entries = response.json()["entry"]
        assert all(e["response"]["status"] == "201 Created" for e in entries)
        locations = [e["response"]["location"].split("/fhir/")[1].split("/_history")[0] for e in entries]
        references = {ref for entry in entries for ref in _references(entry["resource"])}
        assert references, path.name
        assert not [r for r in references if r.startswith("urn:")], path.name
        for reference in references:
            assert client.get(f"/{reference}").status_code == 200, (path.name, reference)
        assert any(loc.startswith("Patient/") for loc in locations)


def _references(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            out.append(node["reference"])
        for value in node.values():
            out.extend(_references(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_references(item))
    return out
