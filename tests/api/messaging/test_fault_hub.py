"""Fault tests with real processes: the hub is SIGKILLed while receiving and while delivering, a receiver
is down for a while, and (NATS backend) the NATS server restarts. Every letter still reaches the receiving
application exactly once in effect, and the sender gets exactly one Acknowledgement per letter from the hub
and, passed back through the hub, exactly one in effect from the receiving application, which answers every
letter it gets (posting it again, unchanged, when the hub did not answer); the hub marks each letter
acknowledged by its receiver exactly once.

The hub runs as ``bindeled serve`` in a subprocess on a temporary SQLite file or a fresh PostgreSQL
database; the sender posts the official HospitalNotification example (made fresh, synthetic CPR numbers)
to ``$process-message`` and posts a letter again, unchanged, when the hub did not answer (as a MedCom
sender does). Both the municipality (letters) and the hospital (the hub's Acknowledgements) receive by push.
"""

from __future__ import annotations

import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.messaging.hub.endpoints import ReceiverEndpoint, endpoint_id, endpoint_resource
from tests.api.messaging._hub import (
    CC_RECEIVER,
    CC_SENDER,
    HN,
    HOSPITAL,
    MUNICIPALITY,
    acknowledgement_of,
    clean_hn,
    fresh,
    hops,
    register_unit,
    synthetic_cpr,
)
from tests.backends import database_url_for
from tests.messaging.delivery.processes import HubProcess, ReceivingApp, sender_system

pytestmark = pytest.mark.slow

LETTERS = 120
NATS_START = (
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
    "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
)
TEST_SETTINGS = {
    "delivery_concurrency": "4",
    "delivery_poll_seconds": "0.05",
    "delivery_timeout_seconds": "3",
    "delivery_lease_seconds": "3",
    "delivery_retry_base_seconds": "0.1",
    "delivery_retry_max_seconds": "0.5",
    "delivery_max_attempts": "100000",
}


def eventually(check: Callable[[], bool], *, within: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def register(hub: HubProcess, municipality: ReceivingApp, hospital: ReceivingApp) -> None:
    with hub.client(hub.token("admin")) as admin:
        for sor, gln in (HOSPITAL, MUNICIPALITY, CC_SENDER, CC_RECEIVER):
            register_unit(admin, sor, gln)
        for (sor, gln), app in ((MUNICIPALITY, municipality), (HOSPITAL, hospital)):
            endpoint = ReceiverEndpoint(gln, sor, "push", app.url, frozenset({(HN, "3.0")}))
            answer = admin.put(f"/Endpoint/{endpoint_id(gln)}", json=endpoint_resource(endpoint))
            assert answer.status_code in (200, 201), answer.text


class Sender:
    """Posts letters in a thread; a letter the hub did not answer is posted again, unchanged."""

    def __init__(self, hub: HubProcess, letters: list[dict[str, Any]]) -> None:
        self.hub = hub
        self.letters = letters
        self.answers: dict[str, list[str]] = {}
        """Per letter (MessageHeader id): the ids of the Acknowledgements the hub answered with."""
        self.posted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.hub.client(self.hub.token(sender_system(HOSPITAL[0]), purpose="MESSAGING")) as client:
            for bundle in self.letters:
                message_id = bundle["entry"][0]["resource"]["id"]
                body = jsonio.encode(bundle)
                while True:
                    try:
                        answer = client.post(
                            "/$process-message", content=body, headers={"Content-Type": "application/fhir+json"}
                        )
                    except httpx.TransportError:
                        time.sleep(0.1)  # the hub is down: post the same letter again
                        continue
                    if answer.status_code >= 500:
                        time.sleep(0.1)
                        continue
                    assert answer.status_code == 200, answer.text
                    ack = answer.json()["entry"][0]["resource"]
                    assert ack["response"]["identifier"] == message_id and ack["response"]["code"] == "ok"
                    self.answers.setdefault(message_id, []).append(ack["id"])
                    break
                self.posted += 1


def post_until_answered(client: httpx.Client, body: bytes) -> httpx.Response:
    """Post until the hub answers (it may be down, or killed mid-post): the same bytes each time."""
    while True:
        try:
            answer = client.post("/$process-message", content=body, headers={"Content-Type": "application/fhir+json"})
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        if answer.status_code < 500:
            return answer
        time.sleep(0.1)


class Acknowledger:
    """The receiving application's answers: an ``ok`` Acknowledgement for each letter it got, posted to the hub."""

    def __init__(self, hub: HubProcess, app: ReceivingApp, definitions: Definitions) -> None:
        self.hub = hub
        self.app = app
        self.definitions = definitions
        self.sent: dict[str, str] = {}
        """Per letter: the MessageHeader id of the receiver's Acknowledgement, once the hub took it."""
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        token = self.hub.token(sender_system(MUNICIPALITY[0]), purpose="MESSAGING")
        with self.hub.client(token) as client:
            while not self.stopped.is_set():
                for letter in [m for m in dict(self.app.letters) if m not in self.sent]:
                    ack = acknowledgement_of(letter, self.definitions)
                    answer = post_until_answered(client, jsonio.encode(ack))
                    assert answer.status_code == 200, answer.text
                    self.sent[letter] = ack["entry"][0]["resource"]["id"]
                time.sleep(0.05)


def acknowledgements_by_letter(hospital: ReceivingApp) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for ack_id, bundle in hospital.letters.items():
        found.setdefault(bundle["entry"][0]["resource"]["response"]["identifier"], set()).add(ack_id)
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def apps() -> Iterator[tuple[ReceivingApp, ReceivingApp]]:
    municipality, hospital = ReceivingApp(delay=0.1), ReceivingApp()
    municipality.start()
    hospital.start()
    yield municipality, hospital
    municipality.stop()
    hospital.stop()


def fresh_letters(definitions: Definitions, count: int) -> list[dict[str, Any]]:
    template = clean_hn(definitions)
    return [fresh(template, cpr=synthetic_cpr()) for _ in range(count)]


def run_stream(
    hub: HubProcess,
    municipality: ReceivingApp,
    hospital: ReceivingApp,
    letters: list[dict[str, Any]],
    acknowledger: Acknowledger,
    *,
    during_delivery: Callable[[], None],
) -> None:
    """Stream the letters in and kill the hub mid-receive (the receiver is down meanwhile); bring the receiver
    back, run ``during_delivery`` while the backlog flows, and kill the hub again mid-delivery."""
    municipality.stop()  # down for a while: letters pile up in the outbox
    sender = Sender(hub, letters)
    sender.thread.start()
    eventually(lambda: sender.posted >= len(letters) // 3, what="the first third posted")
    hub.kill()  # mid-receive: posts in flight are cut off and posted again by the sender
    hub.start()
    sender.thread.join(timeout=300)
    assert sender.posted == len(letters)
    assert municipality.count() == 0
    municipality.start()  # back up: the backlog flows, and the receiving application answers each letter
    acknowledger.thread.start()
    eventually(lambda: municipality.count() >= 20, what="deliveries under way")
    during_delivery()
    before = municipality.count()
    eventually(lambda: municipality.count() >= min(before + 10, len(letters)), what="deliveries flowing")
    assert municipality.count() < len(letters)
    hub.kill()  # mid-delivery: pushes in flight are cut off, leases run out, letters go again
    hub.start()
    expected = {bundle["entry"][0]["resource"]["id"] for bundle in letters}
    eventually(lambda: set(municipality.letters) == expected, what="every letter delivered")
    eventually(lambda: set(acknowledger.sent) == expected, what="the receiver's answer to every letter taken")
    acknowledger.stopped.set()
    acknowledger.thread.join(timeout=60)
    answers = set(acknowledger.sent.values())

    def all_acknowledged() -> bool:
        found = acknowledgements_by_letter(hospital)
        return set(found) == expected and all(found[m] & answers for m in expected)

    eventually(all_acknowledged, what="the hub's and the receiver's acknowledgement of every letter")

    # Exactly once in effect: every letter arrived (possibly more than one copy, never another letter)
    # and the sender saw one Acknowledgement per letter from the hub, the same in every answer and push,
    # and got exactly the receiving application's one Acknowledgement of it (copies carry its id).
    assert set(municipality.copies) == expected
    acks = acknowledgements_by_letter(hospital)
    assert set(acks) == expected
    for message_id, answered in sender.answers.items():
        assert acks[message_id] - answers == set(answered), message_id
        assert len(set(answered)) == 1
        assert acks[message_id] & answers == {acknowledger.sent[message_id]}, message_id
    # The hub recorded each letter as acknowledged by its receiver once (later copies change nothing).
    with hub.client(hub.token("admin")) as admin:
        for message_id in expected:
            assert hops(admin, message_id).count("receiver-acknowledged") == 1, message_id


def test_killing_the_hub_mid_receive_and_mid_delivery_loses_and_doubles_nothing(
    database: str, tmp_path: Path, apps: tuple[ReceivingApp, ReceivingApp], definitions: Definitions
) -> None:
    municipality, hospital = apps
    hub = HubProcess(database, tmp_path, **TEST_SETTINGS)
    hub.start()
    try:
        register(hub, municipality, hospital)
        letters, acknowledger = fresh_letters(definitions, LETTERS), Acknowledger(hub, municipality, definitions)
        run_stream(hub, municipality, hospital, letters, acknowledger, during_delivery=lambda: None)
    finally:
        hub.stop()


@pytest.mark.nats
def test_on_nats_a_hub_kill_and_a_nats_restart_lose_nothing(
    tmp_path: Path, apps: tuple[ReceivingApp, ReceivingApp], definitions: Definitions
) -> None:
    municipality, hospital = apps
    stream = f"FAULT_{secrets.token_hex(4).upper()}"
    with database_url_for("sqlite", tmp_path) as url:
        hub = HubProcess(url, tmp_path, delivery_backend="nats", nats_stream=stream, **TEST_SETTINGS)
        hub.start()
        try:
            register(hub, municipality, hospital)
            letters, acknowledger = fresh_letters(definitions, LETTERS), Acknowledger(hub, municipality, definitions)
            run_stream(hub, municipality, hospital, letters, acknowledger, during_delivery=restart_nats)
        finally:
            hub.stop()
            delete_stream(stream)


def _nats_pid() -> int | None:
    found = subprocess.run(["pidof", "nats-server"], capture_output=True, text=True, check=False).stdout.split()
    return int(found[0]) if found else None


def restart_nats() -> None:
    """Stop the local nats-server (by its pid) and start it again with the machine's own command."""
    pid = _nats_pid()
    assert pid is not None, "nats-server is not running"
    subprocess.run(["kill", str(pid)], check=True)
    eventually(lambda: _nats_pid() is None, within=30, what="nats-server to stop")
    subprocess.run(NATS_START, shell=True, check=True)
    eventually(nats_answers, within=30, what="nats-server to start")


def nats_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1) as sock:
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


def delete_stream(stream: str) -> None:
    import asyncio

    import nats

    async def delete() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    asyncio.run(delete())
