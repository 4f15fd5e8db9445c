"""What only the PostgreSQL backend needs proving: races between pooled connections, deadlocks,
aborted transactions, and migrations started by two processes at once."""

from __future__ import annotations

from typing import Any

import anyio
import asyncpg
import pytest

from bindeled.store.base import Store, Transaction, TransientConflict, run_transaction
from bindeled.store.migrate import load_migrations
from bindeled.store.postgres import PostgresStore

pytestmark = pytest.mark.anyio

PATIENT: dict[str, Any] = {"resourceType": "Patient", "active": True}


@pytest.fixture
def pg(postgres_store: Store) -> Store:
    return postgres_store


async def test_schema_types(pg: Store) -> None:
    rows = await pg.fetch_all(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'resources' ORDER BY 1"
    )
    types = dict(rows)
    assert types["body"] == "bytea"
    assert types["last_updated"] == "timestamp with time zone"


async def test_create_on_update_race_between_connections(pg: Store) -> None:
    writers = 6
    arrived = 0
    all_in = anyio.Event()
    results: list[tuple[int, bool]] = []

    async def put() -> None:
        nonlocal arrived
        async with pg.transaction() as tx:
            await tx.fetch_all("SELECT 1")  # the transaction has begun on its own connection
            arrived += 1
            if arrived == writers:
                all_in.set()
            await all_in.wait()
            stored, created = await tx.update("Patient", "raced", PATIENT)
            results.append((stored.version_id, created))

    async with anyio.create_task_group() as tg:
        for _ in range(writers):
            tg.start_soon(put)
    assert sorted(v for v, _ in results) == list(range(1, writers + 1))
    assert sum(created for _, created in results) == 1


async def test_create_race_of_one_id_gives_one_conflict(pg: Store) -> None:
    outcomes: list[str] = []
    both_in = anyio.Event()
    arrived = 0

    async def post() -> None:
        nonlocal arrived
        try:
            async with pg.transaction() as tx:
                await tx.fetch_all("SELECT 1")
                arrived += 1
                if arrived == 2:
                    both_in.set()
                await both_in.wait()
                await tx.create("Patient", PATIENT, id="once")
            outcomes.append("created")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    async with anyio.create_task_group() as tg:
        tg.start_soon(post)
        tg.start_soon(post)
    assert sorted(outcomes) == ["Conflict", "created"]


async def test_deadlock_is_transient_and_run_transaction_retries(pg: Store) -> None:
    async with pg.transaction() as tx:
        await tx.create("Patient", PATIENT, id="a")
        await tx.create("Patient", PATIENT, id="b")
    first_locks = anyio.Event()
    second_locks = anyio.Event()
    attempts: list[str] = []

    async def work(tx: Transaction, mine: str, theirs: str, locked: anyio.Event, other: anyio.Event) -> None:
        attempts.append(mine)
        await tx.fetch_all("SET LOCAL deadlock_timeout = '20ms'")
        await tx.update("Patient", mine, PATIENT)
        locked.set()
        with anyio.fail_after(5):
            await other.wait()
        await tx.update("Patient", theirs, PATIENT)

    async def one(mine: str, theirs: str, locked: anyio.Event, other: anyio.Event) -> None:
        await run_transaction(pg, lambda tx: work(tx, mine, theirs, locked, other), backoff=0.01)

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, "a", "b", first_locks, second_locks)
        tg.start_soon(one, "b", "a", second_locks, first_locks)
    assert len(attempts) == 3  # one of the two was the deadlock's victim and ran again
    versions = [(await pg.read("Patient", i)).version_id for i in ("a", "b")]  # type: ignore[union-attr]
    assert versions == [3, 3]


async def test_deadlock_without_retry_surfaces_as_transient_conflict(pg: Store) -> None:
    async with pg.transaction() as tx:
        await tx.create("Patient", PATIENT, id="a")
        await tx.create("Patient", PATIENT, id="b")
    events = [anyio.Event(), anyio.Event()]
    outcomes: list[str] = []

    async def one(mine: str, theirs: str, me: int) -> None:
        try:
            async with pg.transaction() as tx:
                await tx.fetch_all("SET LOCAL deadlock_timeout = '20ms'")
                await tx.update("Patient", mine, PATIENT)
                events[me].set()
                await events[1 - me].wait()
                await tx.update("Patient", theirs, PATIENT)
            outcomes.append("ok")
        except TransientConflict:
            outcomes.append("transient")

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, "a", "b", 0)
        tg.start_soon(one, "b", "a", 1)
    assert sorted(outcomes) == ["ok", "transient"]


async def test_failed_statement_aborts_the_transaction(pg: Store) -> None:
    with pytest.raises(RuntimeError, match="failed earlier"):
        async with pg.transaction() as tx:
            await tx.create("Patient", PATIENT, id="lost")
            with pytest.raises(asyncpg.PostgresError):
                await tx.fetch_all("SELECT * FROM no_such_table")
            with pytest.raises(RuntimeError, match="failed earlier"):
                await tx.read("Patient", "lost")
    assert await pg.read("Patient", "lost") is None


async def test_fresh_database_migrates_once_when_two_stores_start_at_once(fresh_postgres_url: str) -> None:
    stores = [PostgresStore(fresh_postgres_url), PostgresStore(fresh_postgres_url)]
    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(store.open)
    try:
        expected = [(m.version,) for m in load_migrations("postgresql")]
        assert await stores[0].fetch_all("SELECT version FROM schema_migrations ORDER BY 1") == expected
        schema = fresh_postgres_url.rpartition("search_path=")[2].split(",")[0]
        assert await stores[0].fetch_all(f"SELECT count(*) FROM {schema}.resources") == [(0,)]
    finally:
        for store in stores:
            await store.close()


async def test_dry_run_on_a_fresh_database(fresh_postgres_url: str) -> None:
    store = PostgresStore(fresh_postgres_url, auto_migrate=False)
    await store.open()
    try:
        pending = await store.migrate(dry_run=True)
        assert [m.name for m in pending] == [m.name for m in load_migrations("postgresql")]
        schema = fresh_postgres_url.rpartition("search_path=")[2].split(",")[0]
        assert await store.fetch_all(f"SELECT to_regclass('{schema}.resources')") == [(None,)]
        assert [m.name for m in await store.migrate()] == [m.name for m in pending]
        assert await store.migrate(dry_run=True) == []
    finally:
        await store.close()
