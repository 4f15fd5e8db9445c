"""Create, read, vread, update, delete and their preconditions, over HTTP, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx

JSON = {"Content-Type": "application/fhir+json"}


def patient(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:test", "value": str(uuid.uuid4())}],
        "name": [{"family": "Testesen", "given": ["Test"]}],
        "gender": "other",
    }
    body.update(extra)
    return body


def create(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    response = client.post(f"/{body['resourceType']}", json=body, headers=JSON)
    assert response.status_code == 201, response.text
    return response


def test_create_sets_id_meta_and_headers(client: httpx.Client) -> None:
    response = create(client, patient(id="client-chosen"))
    body = response.json()
    assert body["id"] != "client-chosen"  # R4: a create ignores the client's id
    assert body["meta"]["versionId"] == "1"
    assert datetime.fromisoformat(body["meta"]["lastUpdated"]).utcoffset() == timedelta(0)
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"].endswith(f"/Patient/{body['id']}/_history/1")
    assert "Last-Modified" in response.headers
    assert response.headers["Content-Type"].startswith("application/fhir+json")


def test_read_returns_what_was_stored_including_decimal_precision(client: httpx.Client) -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "weight"},
        "valueQuantity": {"value": 70.50, "unit": "kg"},
    }
    raw = (
        b'{"resourceType":"Observation","status":"final","code":{"text":"weight"},'
        b'"valueQuantity":{"value":70.50,"unit":"kg"}}'
    )
    created = client.post("/Observation", content=raw, headers=JSON)
    assert created.status_code == 201, created.text
    id_ = created.json()["id"]
    read = client.get(f"/Observation/{id_}")
    assert read.status_code == 200
    assert b'"value":70.50' in read.content
    assert read.json()["valueQuantity"]["unit"] == obs["valueQuantity"]["unit"]


def test_update_versions_and_vread(client: httpx.Client) -> None:
    body = create(client, patient()).json()
    body["gender"] = "female"
    updated = client.put(f"/Patient/{body['id']}", json=body, headers=JSON)
    assert updated.status_code == 200
    assert updated.json()["meta"]["versionId"] == "2"
    assert client.get(f"/Patient/{body['id']}/_history/1").json()["gender"] == "other"
    assert client.get(f"/Patient/{body['id']}/_history/2").json()["gender"] == "female"
    assert client.get(f"/Patient/{body['id']}/_history/3").status_code == 404


def test_create_on_update_with_client_id(client: httpx.Client) -> None:
    id_ = f"cou-{uuid.uuid4().hex[:12]}"
    response = client.put(f"/Patient/{id_}", json=patient(id=id_), headers=JSON)
    assert response.status_code == 201
    assert response.json()["id"] == id_
    assert client.get(f"/Patient/{id_}").status_code == 200


def test_delete_then_read_is_gone_but_history_remains(client: httpx.Client) -> None:
    id_ = create(client, patient()).json()["id"]
    assert client.delete(f"/Patient/{id_}").status_code == 204
    gone = client.get(f"/Patient/{id_}")
    assert gone.status_code == 410
    assert gone.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/Patient/{id_}/_history/1").status_code == 200
    assert client.get(f"/Patient/{id_}/_history/2").status_code == 410
    history = client.get(f"/Patient/{id_}/_history").json()
    assert [e["response"]["status"] for e in history["entry"]] == ["204 No Content", "201 Created"]
    # Deleting again is fine; updating brings it back as version 3.
    assert client.delete(f"/Patient/{id_}").status_code == 204
    revived = client.put(f"/Patient/{id_}", json=patient(id=id_), headers=JSON)
    assert revived.status_code == 201
    assert revived.json()["meta"]["versionId"] == "3"


def test_if_match(client: httpx.Client) -> None:
    body = create(client, patient()).json()
    stale = client.put(f"/Patient/{body['id']}", json=body, headers={**JSON, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    ok = client.put(f"/Patient/{body['id']}", json=body, headers={**JSON, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    assert client.delete(f"/Patient/{body['id']}", headers={"If-Match": 'W/"1"'}).status_code == 412
    bad = client.put(f"/Patient/{body['id']}", json=body, headers={**JSON, "If-Match": "nonsense"})
    assert bad.status_code == 400


def test_conditional_read(client: httpx.Client) -> None:
    response = create(client, patient())
    id_ = response.json()["id"]
    assert client.get(f"/Patient/{id_}", headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert client.get(f"/Patient/{id_}", headers={"If-None-Match": 'W/"0"'}).status_code == 200
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=5), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert client.get(f"/Patient/{id_}", headers={"If-Modified-Since": later}).status_code == 304
    assert client.get(f"/Patient/{id_}", headers={"If-Modified-Since": earlier}).status_code == 200


def test_prefer_return(client: httpx.Client) -> None:
    minimal = client.post("/Patient", json=patient(), headers={**JSON, "Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b""
    assert minimal.headers["Location"]
    outcome = client.post("/Patient", json=patient(), headers={**JSON, "Prefer": "return=OperationOutcome"})
    assert outcome.status_code == 201
    assert outcome.json()["resourceType"] == "OperationOutcome"


def test_unknown_type_and_id(client: httpx.Client) -> None:
    assert client.get("/Nonsense/1").status_code == 404
    assert client.get(f"/Patient/{uuid.uuid4()}").status_code == 404
    assert client.get("/Patient/not_a_valid_id!").status_code == 400
    outcome = client.get("/Nonsense/1").json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


def test_body_must_match_url(client: httpx.Client) -> None:
    body = create(client, patient()).json()
    wrong_id = client.put(f"/Patient/{body['id']}", json={**body, "id": "other"}, headers=JSON)
    assert wrong_id.status_code == 400
    no_id = client.put(f"/Patient/{body['id']}", json={k: v for k, v in body.items() if k != "id"}, headers=JSON)
    assert no_id.status_code == 400
    wrong_type = client.post("/Observation", json=patient(), headers=JSON)
    assert wrong_type.status_code == 400


def test_invalid_resource_is_422_with_location(client: httpx.Client) -> None:
    response = client.post("/Patient", json=patient(gender="f"), headers=JSON)
    assert response.status_code == 422
    issues = response.json()["issue"]
    assert any("Patient.gender" in e for i in issues for e in i.get("expression", []))
    unknown = client.post("/Patient", json=patient(colour="blue"), headers=JSON)
    assert unknown.status_code == 422


def test_malformed_json_is_400(client: httpx.Client) -> None:
    for raw in (b"{", b"[]", b'{"resourceType": "Patient", "name": []}', b'{"name":[{"family":"x"}]}', b"\xff\xfe"):
        response = client.post("/Patient", content=raw, headers=JSON)
        assert response.status_code == 400, raw
        assert response.json()["resourceType"] == "OperationOutcome"


def test_unsupported_media_type_and_not_acceptable(client: httpx.Client) -> None:
    assert client.post("/Patient", content=b"name=x", headers={"Content-Type": "text/plain"}).status_code == 415
    id_ = create(client, patient()).json()["id"]
    assert client.get(f"/Patient/{id_}", headers={"Accept": "image/png"}).status_code == 406
    assert client.get(f"/Patient/{id_}?_format=yaml").status_code == 415


def test_method_not_allowed(client: httpx.Client) -> None:
    assert client.request("POST", "/Patient/123/_history").status_code == 405
    assert client.put("/Patient", json=patient(), headers=JSON).status_code == 405


def test_payload_too_large(client: httpx.Client, server: Any) -> None:
    limit = server.settings.max_body_bytes
    response = client.post("/Patient", content=b" " * (limit + 1), headers=JSON)
    assert response.status_code == 413


def test_summary_and_elements_on_read(client: httpx.Client) -> None:
    body = create(
        client, patient(text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'})
    )
    id_ = body.json()["id"]
    summary = client.get(f"/Patient/{id_}?_summary=true").json()
    assert "text" not in summary and "name" in summary
    assert any(t["code"] == "SUBSETTED" for t in summary["meta"]["tag"])
    elements = client.get(f"/Patient/{id_}?_elements=gender").json()
    assert elements["gender"] == "other" and "name" not in elements
