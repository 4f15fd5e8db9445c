"""Two notifiers on one database, as two server processes would run: each notification goes out once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bindeled.api.app import build_services
from bindeled.api.services import Services
from bindeled.api.subscriptions.owners import record_owner
from bindeled.api.subscriptions.websocket import WebsocketHub
from bindeled.api.subscriptions.worker import SubscriptionWorker
from bindeled.config import Settings
from bindeled.security.principal import Principal
from bindeled.store.base import Transaction, run_transaction
from bindeled.store.guard import as_system
from tests.api.subscriptions.receiver import Receiver
from tests.backends import BACKENDS, database_url_for

pytestmark = pytest.mark.anyio

OWNER = Principal(user_type="operator", user_id="test-owner", full_name="Test Owner", admin=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def processes(database_url: str, tmp_path: Path) -> AsyncIterator[list[Services]]:
    """Two processes' services (each its own store connection) on the same database, security off."""
    settings = Settings(database_url=database_url, enforce_security=False, data_dir=str(tmp_path / "data"))
    both = [build_services(settings), build_services(settings)]
    for svc in both:
        await svc.store.open()
    try:
        yield both
    finally:
        for svc in both:
            await svc.store.close()


async def subscribe(svc: Services, endpoint: str) -> str:
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "test",
        "criteria": "DiagnosticReport?status=final",
        "channel": {"type": "rest-hook", "endpoint": endpoint},
    }

    async def attempt(tx: Transaction) -> str:
        with as_system():
            created = await svc.repo.create_in(tx, "Subscription", body)
        await record_owner(tx, created.stored.id, OWNER)
        return created.stored.id

    return await run_transaction(svc.store, attempt)


async def report(svc: Services, status: str) -> None:
    body = {"resourceType": "DiagnosticReport", "status": status, "code": {"text": "Blood culture"}}
    with as_system():
        await svc.repo.create("DiagnosticReport", body)


async def test_each_version_is_notified_by_one_process_only(processes: list[Services]) -> None:
    workers = [SubscriptionWorker(svc, WebsocketHub(), settle=timedelta(0)) for svc in processes]
    try:
        with Receiver() as receiver, as_system():
            id_ = await subscribe(processes[0], receiver.url)
            for _ in range(2):  # taken on (requested → active), then in force in both
                for worker in workers:
                    await worker.tick()
            assert all(worker.in_force() == [id_] for worker in workers)
            stored = await processes[1].store.read("Subscription", id_)
            assert stored is not None and stored.resource()["status"] == "active"
            await report(processes[0], "preliminary")  # does not match the criteria
            await report(processes[1], "final")
            for worker in workers:
                await worker.tick()
            for worker in workers:
                await worker.drain()
            assert receiver.next(timeout=5).method == "POST"
            assert receiver.calls.empty()
    finally:
        for worker in workers:
            await worker.close()
