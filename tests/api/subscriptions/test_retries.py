"""rest-hook notifications are not lost (both backends): a real receiver that fails, is down, comes back.

Each test runs its own server (uvicorn on a loopback port) with quick retries, so it can be stopped
and started again on the same database, as an operator restarting bindeled would.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from bindeled.config import Settings
from tests.api.conftest import LiveServer, token_for
from tests.api.lab.test_mllp_server import unique
from tests.api.subscriptions.receiver import Receiver
from tests.api.subscriptions.test_rest_hook import subscribe, subscription
from tests.backends import BACKENDS, database_url_for

FHIR_JSON = {"Content-Type": "application/fhir+json"}
BATCH = "urn:bindeled:test:batch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def _forget_refused_results() -> None:
    """These tests run their own servers and store no refused results: the shared server is not needed."""


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """A server's settings on a fresh database: retries after 0.2 s, doubling up to 1 s; error after 3 failures."""
    with database_url_for(request.param, tmp_path) as url:
        yield Settings(
            database_url=url,
            log_json=False,
            dev=True,
            data_dir=str(tmp_path / "data"),
            subscription_timeout_seconds=2.0,
            subscription_retry_seconds=0.2,
            subscription_retry_max_seconds=1.0,
            subscription_max_failures=3,
        )


def started(settings: Settings) -> LiveServer:
    """A server on a new port (the same database and issuer key as before)."""
    return LiveServer(msgspec.structs.replace(settings, port=free_port())).__enter__()


def admin(server: LiveServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for(server, 'admin')}", "Accept": "application/fhir+json"}
    return httpx.Client(base_url=server.base, headers=headers, timeout=60)


def report(client: httpx.Client, batch: str) -> str:
    """A final DiagnosticReport in ``batch``; its id."""
    body: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": "Blood culture"},
        "identifier": [{"system": BATCH, "value": batch}],
    }
    created = client.post("/DiagnosticReport", json=body, headers=FHIR_JSON)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def subscription_of(client: httpx.Client, id_: str, status: str) -> dict[str, Any]:
    """The Subscription, once it has ``status``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/Subscription/{id_}").json()
        if body["status"] == status:
            return body
        time.sleep(0.1)
    raise AssertionError(f"Subscription/{id_} did not become {status}")


def delivered(receiver: Receiver, count: int) -> list[str]:
    """The ids of the next ``count`` resources PUT to the receiver, in order."""
    return [receiver.next(timeout=60).path.rsplit("/", 1)[1] for _ in range(count)]


def hook(port: int, batch: str) -> dict[str, Any]:
    endpoint = f"http://127.0.0.1:{port}/hook"
    return subscription(f"DiagnosticReport?identifier={BATCH}|{batch}", endpoint, payload="application/fhir+json")


def test_a_receiver_that_answers_errors_is_retried_and_the_subscription_recovers(settings: Settings) -> None:
    batch = unique("B")
    server = started(settings)
    try:
        with Receiver(status=503) as receiver, admin(server) as client:
            id_ = subscribe(client, hook(receiver.server.server_address[1], batch))
            first = report(client, batch)
            assert delivered(receiver, 3) == [first] * 3  # the same notification, retried
            failed = subscription_of(client, id_, "error")
            assert failed["error"] == "The endpoint answered HTTP 503"
            second = report(client, batch)  # waits behind the first, in order
            receiver.status = 200
            got = delivered(receiver, 1)
            while got[-1] != second and len(got) < 20:
                got += delivered(receiver, 1)
            assert got == [first] * (len(got) - 1) + [second]
            assert "error" not in subscription_of(client, id_, "active")
            third = report(client, batch)
            assert delivered(receiver, 1) == [third]
            time.sleep(1.5)  # let any (wrong) repeated notification arrive before checking there was none
            assert receiver.calls.empty()
    finally:
        server.__exit__()


def test_notifications_wait_for_a_receiver_that_is_down_across_a_restart(settings: Settings) -> None:
    batch, port = unique("B"), free_port()
    server = started(settings)
    try:
        with admin(server) as client:  # nothing listens on the receiver's port yet
            id_ = subscribe(client, hook(port, batch))
            reports = [report(client, batch), report(client, batch)]
            failed = subscription_of(client, id_, "error")
            assert failed["error"] == "The endpoint could not be reached (ConnectError)"
    finally:
        server.__exit__()
    server = started(settings)  # the queue is in the database, not in the stopped process
    try:
        with Receiver(port=port) as receiver, admin(server) as client:
            assert delivered(receiver, 2) == reports
            assert "error" not in subscription_of(client, id_, "active")
            later = report(client, batch)
            assert delivered(receiver, 1) == [later]
            time.sleep(1.5)  # let any (wrong) repeated notification arrive before checking there was none
            assert receiver.calls.empty()
    finally:
        server.__exit__()
