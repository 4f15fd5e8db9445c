"""Conditional create, update and delete, and both kinds of PATCH."""

from __future__ import annotations

import base64
import json
import uuid

import httpx

from tests.api.test_crud import JSON, create, patient


def _ident() -> tuple[str, str]:
    value = str(uuid.uuid4())
    return value, f"identifier=urn:test|{value}"


def _patient_with(value: str) -> dict[str, object]:
    return {**patient(), "identifier": [{"system": "urn:test", "value": value}]}


def test_conditional_create(client: httpx.Client) -> None:
    value, criteria = _ident()
    first = client.post("/Patient", json=_patient_with(value), headers={**JSON, "If-None-Exist": criteria})
    assert first.status_code == 201
    again = client.post("/Patient", json=_patient_with(value), headers={**JSON, "If-None-Exist": criteria})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    create(client, _patient_with(value))  # now two match
    twice = client.post("/Patient", json=_patient_with(value), headers={**JSON, "If-None-Exist": criteria})
    assert twice.status_code == 412


def test_conditional_update(client: httpx.Client) -> None:
    value, criteria = _ident()
    made = client.put(f"/Patient?{criteria}", json=_patient_with(value), headers=JSON)
    assert made.status_code == 201
    id_ = made.json()["id"]
    changed = client.put(f"/Patient?{criteria}", json={**_patient_with(value), "gender": "male"}, headers=JSON)
    assert changed.status_code == 200
    assert changed.json()["id"] == id_ and changed.json()["meta"]["versionId"] == "2"
    create(client, _patient_with(value))
    assert client.put(f"/Patient?{criteria}", json=_patient_with(value), headers=JSON).status_code == 412


def test_conditional_delete(client: httpx.Client) -> None:
    value, criteria = _ident()
    ids = [create(client, _patient_with(value)).json()["id"] for _ in range(2)]
    assert client.delete(f"/Patient?{criteria}").status_code == 204
    for id_ in ids:
        assert client.get(f"/Patient/{id_}").status_code == 410
    assert client.delete(f"/Patient?{criteria}").status_code == 204  # nothing left: still fine


def test_json_patch(client: httpx.Client) -> None:
    id_ = create(client, patient()).json()["id"]
    ops = [
        {"op": "replace", "path": "/gender", "value": "female"},
        {"op": "add", "path": "/birthDate", "value": "1970-01-01"},
    ]
    response = client.patch(
        f"/Patient/{id_}", content=json.dumps(ops), headers={"Content-Type": "application/json-patch+json"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["gender"] == "female" and body["birthDate"] == "1970-01-01" and body["meta"]["versionId"] == "2"


def test_json_patch_that_breaks_the_resource_is_refused_and_nothing_changes(client: httpx.Client) -> None:
    id_ = create(client, patient()).json()["id"]
    patch_bad_value = [{"op": "replace", "path": "/gender", "value": "nonsense"}]
    headers = {"Content-Type": "application/json-patch+json"}
    assert client.patch(f"/Patient/{id_}", content=json.dumps(patch_bad_value), headers=headers).status_code == 422
    patch_bad_path = [{"op": "remove", "path": "/nothing/here"}]
    assert client.patch(f"/Patient/{id_}", content=json.dumps(patch_bad_path), headers=headers).status_code == 422
    patch_id = [{"op": "replace", "path": "/id", "value": "other"}]
    assert client.patch(f"/Patient/{id_}", content=json.dumps(patch_id), headers=headers).status_code == 422
    assert client.get(f"/Patient/{id_}").json()["meta"]["versionId"] == "1"


def test_fhirpath_patch(client: httpx.Client) -> None:
    id_ = create(client, patient(birthDate="1960-05-05")).json()["id"]
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "replace"},
                    {"name": "path", "valueString": "Patient.birthDate"},
                    {"name": "value", "valueDate": "1961-06-06"},
                ],
            },
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "add"},
                    {"name": "path", "valueString": "Patient.name.where(family='Testesen')"},
                    {"name": "name", "valueString": "prefix"},
                    {"name": "value", "valueString": "Dr."},
                ],
            },
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "insert"},
                    {"name": "path", "valueString": "Patient.name[0].given"},
                    {"name": "index", "valueInteger": 0},
                    {"name": "value", "valueString": "Første"},
                ],
            },
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "delete"},
                    {"name": "path", "valueString": "Patient.gender"},
                ],
            },
        ],
    }
    response = client.patch(f"/Patient/{id_}", json=parameters, headers=JSON)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["birthDate"] == "1961-06-06"
    assert body["name"][0]["prefix"] == ["Dr."]
    assert body["name"][0]["given"] == ["Første", "Test"]
    assert "gender" not in body


def test_patch_in_transaction_with_binary(client: httpx.Client) -> None:
    id_ = create(client, patient()).json()["id"]
    ops = json.dumps([{"op": "replace", "path": "/gender", "value": "male"}]).encode()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "application/json-patch+json",
                    "data": base64.b64encode(ops).decode(),
                },
                "request": {"method": "PATCH", "url": f"Patient/{id_}"},
            }
        ],
    }
    response = client.post("/", json=bundle, headers=JSON)
    assert response.status_code == 200, response.text
    assert client.get(f"/Patient/{id_}").json()["gender"] == "male"


def test_conditional_update_with_another_id_is_a_conflict(client: httpx.Client) -> None:
    value, criteria = _ident()
    made = create(client, _patient_with(value)).json()
    other = {**_patient_with(value), "id": "not-" + made["id"][:20]}
    response = client.put(f"/Patient?{criteria}", json=other, headers=JSON)
    assert response.status_code == 409
    assert response.json()["issue"][0]["code"] == "conflict"
    assert client.get(f"/Patient/{made['id']}").json()["meta"]["versionId"] == "1"
