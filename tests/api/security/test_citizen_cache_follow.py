"""Two server processes on one database: a CPR number changed through one reaches the other's policy quickly.

The second server keeps Patient → CPR numbers in its own cache; it must follow the first server's Patient
writes (``citizen_cache_follow_seconds``) instead of judging by the old number until the cache expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.api.conftest import LiveServer, _free_port
from tests.api.test_crud import JSON
from tests.api.test_security_api import CPR, _as, _block_consent, _citizen

UNBLOCKED_CPR, BLOCKING_CPR = "6203853712", "0712614382"
GP_AUTHORISATION = "GP7K2"


@pytest.fixture
def second_server(server: LiveServer) -> Iterator[LiveServer]:
    """Another server process's view: the same database and token keys, its own caches and workers."""
    settings = server.settings.replace(
        port=_free_port(),
        mllp_enabled=False,
        lab_intake_dir="",
        citizen_cache_follow_seconds=0.2,
        registers_refresh_seconds=0.2,
    )
    with LiveServer(settings) as live:
        yield live


def _until(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_cpr_changed_elsewhere_is_judged_under_the_new_citizens_block(
    server: LiveServer, second_server: LiveServer, client: httpx.Client
) -> None:
    patient = _citizen(client, UNBLOCKED_CPR)
    blocking = _citizen(client, BLOCKING_CPR)
    observation = client.post(
        "/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "puls"},
            "subject": {"reference": f"Patient/{patient}"},
        },
        headers=JSON,
    ).json()
    consent = client.post("/Consent", json=_block_consent(blocking, GP_AUTHORISATION), headers=JSON)
    assert consent.status_code == 201, consent.text
    try:
        with _as(second_server, "gp", "SJ_READ") as gp:
            # The second server caches the Patient's number while reading its data.
            assert gp.get(f"/Observation/{observation['id']}").status_code == 200
            moved = client.get(f"/Patient/{patient}").json()
            moved["identifier"] = [{"system": CPR, "value": BLOCKING_CPR}]
            assert client.put(f"/Patient/{patient}", json=moved, headers=JSON).status_code == 200
            assert _until(lambda: gp.get(f"/Observation/{observation['id']}").status_code == 404)
    finally:
        withdrawn = {**consent.json(), "status": "inactive"}
        assert client.put(f"/Consent/{withdrawn['id']}", json=withdrawn, headers=JSON).status_code == 200
