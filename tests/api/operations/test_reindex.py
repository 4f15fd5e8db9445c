"""``$reindex`` over HTTP: a SearchParameter posted through the API, then existing data reindexed.

The live server is shared by the session, so every test uses its own parameter code and values and
deletes its SearchParameter at the end.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.test_crud import JSON, create

EXT = "http://example.dk/fhir/StructureDefinition/test-region"


def _parameter(code: str) -> dict[str, Any]:
    return {
        "resourceType": "SearchParameter",
        "url": f"http://example.dk/fhir/SearchParameter/{code}",
        "name": "TestRegion",
        "status": "active",
        "description": "A patient's region",
        "code": code,
        "base": ["Patient"],
        "type": "string",
        "expression": f"Patient.extension('{EXT}').value",
    }


def _patient(region: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "extension": [{"url": EXT, "valueString": region}]}


def _counts(response: httpx.Response) -> dict[str, int]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "Parameters"
    return {p["name"]: p["valueInteger"] for p in body["parameter"]}


def _ids(client: httpx.Client, params: dict[str, str], strict: bool = True) -> set[str] | int:
    headers = {"Prefer": "handling=strict"} if strict else {}
    response = client.get("/Patient", params=params, headers=headers)
    if response.status_code != 200:
        return response.status_code
    return {e["resource"]["id"] for e in response.json().get("entry", [])}


def test_search_parameter_then_reindex_at_every_level(client: httpx.Client) -> None:
    code = "test-region-" + uuid.uuid4().hex[:8]
    region = "Region" + uuid.uuid4().hex[:8]
    before = [create(client, _patient(region)).json()["id"] for _ in range(3)]
    assert _ids(client, {code: region}) == 400  # unknown parameter, strict

    sp = create(client, _parameter(code)).json()
    assert _ids(client, {code: region}) == set()  # known now, but the old patients have no rows yet
    after = create(client, _patient(region)).json()["id"]
    assert _ids(client, {code: region}) == {after}

    one = _counts(client.post(f"/Patient/{before[0]}/$reindex"))
    assert one["resources"] == 1 and one["indexRows"] > 0 and one["batches"] == 1
    assert _ids(client, {code: region}) == {before[0], after}

    typed = _counts(client.post("/Patient/$reindex", params={"batchSize": "7"}))
    assert typed["resources"] >= 4
    assert typed["batches"] == -(-typed["resources"] // 7)
    assert _ids(client, {code: region}) == {*before, after}

    body = {"resourceType": "Parameters", "parameter": [{"name": "batchSize", "valueInteger": 1000}]}
    everything = _counts(client.post("/$reindex", json=body, headers=JSON))
    assert everything["resources"] >= typed["resources"] + 1

    assert client.delete(f"/SearchParameter/{sp['id']}").status_code in (200, 204)
    assert _ids(client, {code: region}) == 400


def test_reindex_refuses_bad_requests(client: httpx.Client) -> None:
    assert client.post("/Patient/$reindex", params={"batchSize": "0"}).status_code == 400
    assert client.post("/Patient/$reindex", params={"batchSize": "lots"}).status_code == 400
    assert client.post("/NotAType/$reindex").status_code == 404
    assert client.post(f"/Patient/{uuid.uuid4().hex}/$reindex").status_code == 404
    assert client.get("/Patient/$reindex").status_code == 400  # POST only: GET is a read of a bad id


def test_unusable_search_parameter_is_refused(client: httpx.Client) -> None:
    bad = {**_parameter("test-bad"), "code": "has space"}
    response = client.post("/SearchParameter", json=bad, headers=JSON)
    assert response.status_code == 422
