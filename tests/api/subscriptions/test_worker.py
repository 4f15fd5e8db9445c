"""Two notifiers on one database, as two server processes would run: each notification goes out once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bindeled.api.app import build_services
from bindeled.api.services import Services
from bindeled.api.subscriptions.owners import record_owner
from bindeled.api.subscriptions.queue import (
    claim,
    due_subscriptions,
    lease,
    mark_failed,
    mark_sent,
    pending_of,
    purge_done,
)
from bindeled.api.subscriptions.websocket import WebsocketHub
from bindeled.api.subscriptions.worker import SubscriptionWorker
from bindeled.config import Settings
from bindeled.security.principal import Principal
from bindeled.store.base import Transaction, run_transaction, utc_now
from bindeled.store.guard import as_system
from tests.api.subscriptions.receiver import Receiver
from tests.backends import BACKENDS, database_url_for

pytestmark = pytest.mark.anyio

OWNER = Principal(user_type="operator", user_id="test-owner", full_name="Test Owner", admin=True)


@pytest.fixture(autouse=True)
def _forget_refused_results() -> None:
    """These tests use their own stores, not the shared server."""


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


async def test_a_new_process_notifies_what_was_written_while_none_ran(processes: list[Services]) -> None:
    """The notifiers keep how far they have read (``subscription_mark``): a restart reads on from there."""
    with Receiver() as receiver, as_system():
        first = SubscriptionWorker(processes[0], WebsocketHub(), settle=timedelta(0))
        first.lookback = timedelta(0)  # only the kept mark can find the version written in between
        try:
            await subscribe(processes[0], receiver.url)
            for _ in range(2):
                await first.tick()
        finally:
            await first.close()
        await report(processes[0], "final")  # no notifier runs now
        second = SubscriptionWorker(processes[1], WebsocketHub(), settle=timedelta(0))
        second.lookback = timedelta(0)
        try:
            await second.tick()
            await second.drain()
            assert receiver.next(timeout=5).method == "POST"
        finally:
            await second.close()


async def test_the_queue_claims_once_leases_once_and_purges_only_what_is_done(processes: list[Services]) -> None:
    store, other = processes[0].store, processes[1].store
    assert await claim(store, "s1", "DiagnosticReport", "r1", 1)
    assert await claim(store, "s1", "DiagnosticReport", "r2", 1)
    assert not await claim(other, "s1", "DiagnosticReport", "r1", 1)  # queued once, whichever process claims
    first, second = await pending_of(store, "s1")
    now = utc_now()
    assert await lease(store, first, now, now + timedelta(seconds=30))
    assert not await lease(other, first, now, now + timedelta(seconds=30))  # being sent by the first process
    await mark_failed(store, first, "The endpoint answered HTTP 503", now + timedelta(seconds=30))
    assert not await lease(other, second, utc_now(), utc_now() + timedelta(seconds=30))  # waits behind the first
    assert await due_subscriptions(store, now + timedelta(seconds=31)) == ["s1"]
    await mark_sent(store, first, utc_now())
    await purge_done(store, utc_now() + timedelta(seconds=1))
    assert [q.resource_id for q in await pending_of(store, "s1")] == ["r2"]
    assert await claim(store, "s1", "DiagnosticReport", "r1", 1)  # purged: only the claim was left of it
