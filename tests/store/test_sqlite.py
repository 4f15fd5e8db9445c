"""What only the SQLite backend promises: its pragmas, its threads and its locks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from bindeled.store.base import TransientConflict
from bindeled.store.sqlite import SQLiteStore

pytestmark = pytest.mark.anyio

PATIENT = {"resourceType": "Patient", "active": True}


@pytest.fixture
async def file_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "s.db"))
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_pragmas(file_store: SQLiteStore) -> None:
    assert await file_store.fetch_all("PRAGMA journal_mode") == [("wal",)]
    assert await file_store.fetch_all("PRAGMA synchronous") == [(1,)]  # NORMAL
    assert await file_store.fetch_all("PRAGMA foreign_keys") == [(1,)]
    async with file_store.transaction() as tx:
        assert await tx.fetch_all("PRAGMA foreign_keys") == [(1,)]
        assert await tx.fetch_all("PRAGMA synchronous") == [(1,)]


async def test_readers_are_read_only(file_store: SQLiteStore) -> None:
    with pytest.raises(Exception, match="readonly"):
        await file_store.fetch_all("DELETE FROM resources")


async def test_reads_do_not_wait_for_an_open_write_transaction(file_store: SQLiteStore) -> None:
    async with file_store.transaction() as tx:
        await tx.create("Patient", PATIENT, id="before")
    async with file_store.transaction() as tx:
        await tx.update("Patient", "before", PATIENT)
        with anyio.fail_after(2):
            current = await file_store.read("Patient", "before")
        assert current is not None
        assert current.version_id == 1


async def test_memory_reads_wait_for_the_writer(tmp_path: Path) -> None:
    store = SQLiteStore(":memory:")
    await store.open()
    seen: list[int] = []

    async def reader() -> None:
        found = await store.read("Patient", "p")
        seen.append(0 if found is None else found.version_id)

    try:
        async with anyio.create_task_group() as tg, store.transaction() as tx:
            await tx.create("Patient", PATIENT, id="p")
            tg.start_soon(reader)
            await anyio.sleep(0.05)
            assert seen == []
        assert seen == [1]
    finally:
        await store.close()


async def test_nested_transaction_is_refused_not_deadlocked(file_store: SQLiteStore) -> None:
    async with file_store.transaction():
        with anyio.fail_after(2), pytest.raises(RuntimeError, match="transaction open"):
            async with file_store.transaction():
                pass


async def test_writer_locked_by_another_store_times_out_as_transient_conflict(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.db")
    holder, waiter = SQLiteStore(path), SQLiteStore(path, busy_timeout=0.05)
    await holder.open()
    await waiter.open()
    try:
        async with holder.transaction() as tx:
            await tx.create("Patient", PATIENT, id="held")
            with pytest.raises(TransientConflict):
                async with waiter.transaction() as other:
                    await other.create("Patient", PATIENT, id="blocked")
        async with waiter.transaction() as other:
            await other.create("Patient", PATIENT, id="later")
        assert [r.id for r in await holder.read_many([("Patient", "held"), ("Patient", "later")])] == ["held", "later"]
    finally:
        await waiter.close()
        await holder.close()


async def test_cancelled_transaction_rolls_back(file_store: SQLiteStore) -> None:
    with anyio.move_on_after(0.05):
        async with file_store.transaction() as tx:
            await tx.create("Patient", PATIENT, id="cancelled")
            await anyio.sleep(5)
    assert await file_store.read("Patient", "cancelled") is None
    async with file_store.transaction() as tx:
        await tx.create("Patient", PATIENT, id="after")
    assert await file_store.read("Patient", "after") is not None


async def test_life_cycle(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "life.db"))
    with pytest.raises(RuntimeError, match="not open"):
        await store.read("Patient", "x")
    await store.open()
    with pytest.raises(RuntimeError, match="already open"):
        await store.open()
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.read("Patient", "x")
