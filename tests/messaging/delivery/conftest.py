"""Delivery fixtures: a store per backend, a real HTTP receiver, a settable clock and a hub to drive.

The ``hub`` fixture runs once per (database backend, delivery backend): SQLite or PostgreSQL, and the
database outbox workers or NATS JetStream (the NATS runs are marked ``nats``). Tests drive the hub in
the foreground (:meth:`Hub.until`), so nothing runs behind their back and nothing depends on timing
except generous deadlines for things that must happen.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import msgspec
import nats
import pytest

from bindeled.messaging.delivery.nats import NatsDelivery
from bindeled.messaging.delivery.outbox import Outgoing, enqueue
from bindeled.messaging.delivery.policy import DeliveryPolicy
from bindeled.messaging.delivery.transport import Transport
from bindeled.messaging.delivery.worker import OutboxWorker
from bindeled.messaging.hub.endpoints import ReceiverEndpoint, endpoint_id, endpoint_resource
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from tests.backends import postgres_database

NATS_URL = "nats://127.0.0.1:4222"
SENDER_GLN = "5790001382445"
RECEIVER_GLN = "5790000121526"
MAILBOX_GLN = "5790000209354"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Clock:
    """The hub's clock: real time plus an offset a test can move forward (for the acknowledgement wait)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


@dataclass
class Receiver:
    """A real HTTP server on a loopback port that records the Bundles POSTed to it.

    ``answers`` are the statuses of the next requests (then 200); :meth:`stop` closes the port, so
    pushes meet a refused connection until :meth:`start` opens it again.
    """

    port: int = 0
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/receive"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def message_ids(self) -> list[str]:
        """The MessageHeader ids of the accepted Bundles, in arrival order."""
        return [bundle["entry"][0]["resource"]["id"] for bundle in self.received]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length)
                status = self.answers.pop(0) if self.answers else 200
                if status == 200:
                    self.received.append(msgspec.json.decode(body))
                    self.bodies.append(body)
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def letter(message_id: str | None = None, *, receiver: str = RECEIVER_GLN, is_ack: bool = False) -> Outgoing:
    """A small message Bundle addressed to ``receiver`` (the hub delivers payloads as they are)."""
    message_id = message_id or str(uuid.uuid4())
    envelope = str(uuid.uuid4())
    bundle = {
        "resourceType": "Bundle",
        "id": envelope,
        "type": "message",
        "timestamp": "2026-01-01T12:00:00+01:00",
        "entry": [{"resource": {"resourceType": "MessageHeader", "id": message_id, "note": 1.50}}],
    }
    payload = msgspec.json.encode(bundle).replace(b"1.5", b"1.50")
    kind = "acknowledgement-message" if is_ack else "hospital-notification-message"
    return Outgoing(message_id, envelope, kind, SENDER_GLN, receiver, payload, is_ack)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with postgres_database("bindeled_delivery") as url:
        yield url


async def _empty(store: Store) -> None:
    async with store.transaction() as tx:
        for table in ("hub_outbox", "hub_hop", "resource_history", "resources"):
            await tx.fetch_all(f"DELETE FROM {table}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file of the test's own, or the session's PostgreSQL database (emptied by ``store``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = open_store(store_url)
    await opened.open()
    await _empty(opened)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


async def register(store: Store, gln: str, *, url: str = "", mode: str = "push") -> None:
    """Put a receiver in the endpoint register."""
    endpoint = ReceiverEndpoint(
        gln, "1234561000016", "push" if mode == "push" else "mailbox", url, frozenset({("x", "1")})
    )
    async with store.transaction() as tx:
        await tx.update("Endpoint", endpoint_id(gln), endpoint_resource(endpoint))


class Hub:
    """One delivery backend on one store, driven step by step by the test."""

    def __init__(self, store: Store, policy: DeliveryPolicy, clock: Clock, backend: str) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.backend = backend
        self.transport = Transport(store, timeout=policy.timeout)
        self.worker = OutboxWorker(store, self.transport, policy, clock=clock)
        self.stream = f"BINDELED_TEST_{secrets.token_hex(4).upper()}"
        self.nats = NatsDelivery(store, self.transport, policy, url=NATS_URL, stream=self.stream, clock=clock)
        self._subscription: Any = None

    async def __aenter__(self) -> Hub:
        if self.backend == "nats":
            await self.nats.__aenter__()
            js = self.nats._js
            self._subscription = await js.pull_subscribe(
                self.nats.subject, durable=self.nats.durable, stream=self.stream, config=self.nats.consumer_config()
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.backend == "nats":
            await self.nats._js.delete_stream(self.stream)
            await self.nats.__aexit__(None, None, None)
        await self.transport.close()

    async def send(self, *items: Outgoing) -> None:
        """Receive letters: queue them in one transaction, as ``$process-message`` does."""
        async with self.store.transaction() as tx:
            for item in items:
                await enqueue(tx, item)

    async def step(self) -> int:
        if self.backend == "nats":
            return await self.nats.relay_once() + await self.nats.consume_once(self._subscription)
        return await self.worker.step()

    async def until(self, done: Callable[[], Any], *, within: float = 30.0) -> None:
        """Run delivery rounds until ``done()`` (sync or async) is true; fail after ``within`` seconds."""
        with anyio.fail_after(within):
            while True:
                result = done()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                if not await self.step():
                    await anyio.sleep(0.02)

    async def states(self) -> dict[str, str]:
        rows = await self.store.fetch_all("SELECT message_id, state FROM hub_outbox WHERE is_ack = 0")
        return {str(m): str(s) for m, s in rows}


FAST = DeliveryPolicy(
    concurrency=8,
    poll=0.02,
    timeout=2.0,
    lease=timedelta(seconds=30),
    retry_base=0.05,
    retry_max=0.2,
    max_attempts=6,
    ack_timeout=timedelta(minutes=30),
    max_resends=2,
)


@pytest.fixture(params=["database", pytest.param("nats", marks=pytest.mark.nats)])
async def hub(request: pytest.FixtureRequest, store: Store) -> AsyncIterator[Hub]:
    async with Hub(store, FAST, Clock(), request.param) as running:
        yield running


async def nats_alive() -> bool:
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception:
        return False
    await nc.close()
    return True
