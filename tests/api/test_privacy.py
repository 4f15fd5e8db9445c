"""No CPR number or resource content reaches the application log, also when requests fail."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.api.test_crud import JSON

CPR = "1502701234"


def test_requests_do_not_log_personal_data(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": CPR}],
        "name": [{"family": "Hemmeligsen"}],
    }
    assert client.post("/Patient", json=patient, headers=JSON).status_code == 201
    assert client.post("/Patient", json={**patient, "gender": "x"}, headers=JSON).status_code == 422
    client.get("/Patient", params={"identifier": f"urn:oid:1.2.208.176.1.2|{CPR}"})
    client.post("/Patient", content=f'{{"resourceType":"Patient","name":"{CPR}"'.encode(), headers=JSON)
    # httpx/httpcore are the test's own client; uvicorn's access log is switched off in `bindeled serve`
    # (pytest's capture handlers would otherwise re-enable it here), bindeled.access replaces it.
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "uvicorn.access"))]
    assert any(r.name == "bindeled.access" for r in server_side)
    for record in server_side:
        text = record.getMessage() + str(record.__dict__)
        assert CPR not in text and "Hemmeligsen" not in text
