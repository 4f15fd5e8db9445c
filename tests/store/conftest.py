"""Store fixtures: one opened store per backend, a controllable clock, a fresh PostgreSQL database.

Self-contained so they can move to ``tests/conftest.py`` as they are. Tests that take ``store`` run
three times: ``sqlite`` (a file in ``tmp_path``), ``sqlite-memory`` and ``postgresql``. PostgreSQL is
required, not optional: when the server at ``BINDELED_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``) is unreachable, those tests fail. One database
``bindeled_test_<random>`` is created per test session and dropped at the end; its tables are
emptied before each test.

Override ``store_indexer`` in a test module to give the store an :class:`Indexer`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bindeled.store.base import Indexer, Store
from bindeled.store.factory import open_store
from bindeled.store.postgres import PostgresStore

POSTGRES_ADMIN_URL = os.environ.get("BINDELED_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
"""A database on the test server to connect to while creating and dropping the test databases."""

BACKENDS = ["sqlite", "sqlite-memory", "postgresql"]
SHARED_BACKENDS = ["sqlite", "postgresql"]
"""The backends where a second store can open the same database."""


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """asyncpg needs asyncio; session scope lets any async fixture, whatever its scope, use it."""
    return "asyncio"


@dataclass
class FakeClock:
    """A clock for the store: starts at ``now`` and moves ``tick`` forward on every reading."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    tick: timedelta = timedelta(milliseconds=1)

    def __call__(self) -> datetime:
        moment = self.now
        self.now += self.tick
        return moment

    def set(self, moment: datetime, tick: timedelta | None = None) -> None:
        self.now = moment
        if tick is not None:
            self.tick = tick


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str, database: str | None) -> None:
    url = POSTGRES_ADMIN_URL if database is None else _database_url(POSTGRES_ADMIN_URL, database)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _admin_sync(sql: str, database: str | None = None) -> None:
    # On a thread of its own, so this event loop never meets the one running the tests.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _admin(sql, database)).result()


def create_database(name: str) -> str:
    """Create database ``name`` on the test server (synchronously); return its URL."""
    _admin_sync(f'CREATE DATABASE "{name}"')
    return _database_url(POSTGRES_ADMIN_URL, name)


def drop_database(name: str) -> None:
    _admin_sync(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test session, dropped afterwards."""
    name = f"bindeled_test_{secrets.token_hex(4)}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """An empty schema of its own, first on the URL's ``search_path``, for tests of what happens on first start.

    A schema rather than a database: dropping a database can take many seconds on a busy server.
    ``public`` stays on the path for extensions installed there (such as ``pg_trgm``).
    """
    schema = f"fresh_{secrets.token_hex(4)}"
    database = postgres_url.rpartition("/")[2]
    _admin_sync(f"CREATE SCHEMA {schema}", database)
    try:
        yield f"{postgres_url}?search_path={schema},public"
    finally:
        _admin_sync(f"DROP SCHEMA {schema} CASCADE", database)


@dataclass
class StoreBackend:
    """Where a test's store lives; ``make`` builds (unopened) stores on that same database."""

    name: str
    url: str

    def make(self, **kwargs: Any) -> Store:
        return open_store(self.url, **kwargs)


def _backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    if name == "sqlite":
        return StoreBackend(name, f"sqlite:///{tmp_path / 'store.db'}")
    if name == "sqlite-memory":
        return StoreBackend(name, "sqlite:///:memory:")
    return StoreBackend(name, request.getfixturevalue("postgres_url"))


@pytest.fixture(params=BACKENDS)
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    return _backend(request.param, request, tmp_path)


@pytest.fixture(params=SHARED_BACKENDS)
def shared_store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    """Only the backends where several stores can share one database."""
    return _backend(request.param, request, tmp_path)


@pytest.fixture
def store_indexer() -> Indexer | None:
    return None


async def empty_postgres_tables(store: Store) -> None:
    """Empty every table but ``schema_migrations`` (search-index tables included).

    Only tables that have rows, with DELETE and foreign-key triggers off for the moment: TRUNCATE
    costs tens of milliseconds a table, which adds up over hundreds of tests.
    """
    tables = await store.fetch_all(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    )
    if not tables:
        return
    probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for (t,) in tables)
    filled = await store.fetch_all(probe)
    if filled:
        async with store.transaction() as tx:
            await tx.fetch_all("SET LOCAL session_replication_role = replica")
            for (table,) in filled:
                await tx.fetch_all(f"DELETE FROM {table}")


async def opened_store(store: Store) -> Store:
    """Open ``store``; on PostgreSQL, empty the session database's tables too."""
    await store.open()
    if store.dialect == "postgresql":
        await empty_postgres_tables(store)
    return store


@pytest.fixture
async def store(store_backend: StoreBackend, clock: FakeClock, store_indexer: Indexer | None) -> AsyncIterator[Store]:
    """An opened, empty store on each backend, with the fake ``clock`` and ``store_indexer``."""
    opened = await opened_store(store_backend.make(clock=clock, indexer=store_indexer))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def postgres_store(postgres_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    """An opened, empty PostgreSQL store with room in its pool for a dozen concurrent transactions."""
    opened = await opened_store(PostgresStore(postgres_url, clock=clock, max_size=12))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def shared_store(
    shared_store_backend: StoreBackend, clock: FakeClock, store_indexer: Indexer | None
) -> AsyncIterator[Store]:
    """Like ``store``, on the backends where ``shared_store_backend.make`` opens the same database."""
    opened = await opened_store(shared_store_backend.make(clock=clock, indexer=store_indexer))
    try:
        yield opened
    finally:
        await opened.close()
