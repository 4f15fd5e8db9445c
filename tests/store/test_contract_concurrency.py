"""The Store contract, part 3: concurrent writers get gapless versions and lose no update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from bindeled.store.base import HistoryQuery, Store, Transaction, TransientConflict, run_transaction

if TYPE_CHECKING:
    from conftest import StoreBackend

pytestmark = pytest.mark.anyio

WRITERS = 20


def counter(n: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "counter"}, "valueInteger": n}


async def increment(store: Store) -> None:
    """Read the current count inside the transaction and write count + 1."""
    async with store.transaction() as tx:
        current = await tx.read("Observation", "counter")
        assert current is not None
        await tx.update("Observation", "counter", counter(current.resource()["valueInteger"] + 1))


async def assert_counted(store: Store, writes: int) -> None:
    final = await store.read("Observation", "counter")
    assert final is not None
    assert final.version_id == writes + 1
    assert final.resource()["valueInteger"] == writes
    history = await store.history(HistoryQuery("Observation", "counter", count=100))
    assert sorted(v.version_id for v in history) == list(range(1, writes + 2))
    assert sorted(v.resource()["valueInteger"] for v in history) == list(range(writes + 1))


async def test_concurrent_updates_get_every_version(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.create("Observation", counter(0), id="counter")
    async with anyio.create_task_group() as tg:
        for _ in range(WRITERS):
            tg.start_soon(increment, store)
    await assert_counted(store, WRITERS)


async def test_concurrent_updates_through_two_stores_on_one_database(
    shared_store: Store, shared_store_backend: StoreBackend
) -> None:
    other = shared_store_backend.make()
    await other.open()
    try:
        async with shared_store.transaction() as tx:
            await tx.create("Observation", counter(0), id="counter")
        async with anyio.create_task_group() as tg:
            for i in range(WRITERS):
                tg.start_soon(increment, shared_store if i % 2 else other)
        await assert_counted(shared_store, WRITERS)
        await assert_counted(other, WRITERS)
    finally:
        await other.close()


async def test_concurrent_create_on_update_of_one_id(store: Store) -> None:
    results: list[tuple[int, bool]] = []

    async def put(n: int) -> None:
        async with store.transaction() as tx:
            stored, created = await tx.update("Observation", "same", counter(n))
            results.append((stored.version_id, created))

    async with anyio.create_task_group() as tg:
        for n in range(WRITERS):
            tg.start_soon(put, n)
    assert sorted(v for v, _ in results) == list(range(1, WRITERS + 1))
    assert [v for v, created in results if created] == [1]


async def test_run_transaction_repeats_transient_conflicts(store: Store) -> None:
    attempts = 0

    async def work(tx: Transaction) -> int:
        nonlocal attempts
        attempts += 1
        await tx.update("Observation", "retried", counter(attempts))
        if attempts < 3:
            raise TransientConflict("lost a race")
        return attempts

    assert await run_transaction(store, work, backoff=0.001) == 3
    stored = await store.read("Observation", "retried")
    assert stored is not None
    assert (stored.version_id, stored.resource()["valueInteger"]) == (1, 3)


async def test_run_transaction_gives_up_after_its_attempts(store: Store) -> None:
    async def work(tx: Transaction) -> None:
        await tx.update("Observation", "never", counter(1))
        raise TransientConflict("always")

    with pytest.raises(TransientConflict):
        await run_transaction(store, work, attempts=2, backoff=0.001)
    assert await store.read("Observation", "never") is None
