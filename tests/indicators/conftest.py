"""Indicator fixtures: a store per backend (SQLite file, PostgreSQL database) with the indicator tables empty."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bindeled.store.base import Store
from bindeled.store.factory import open_store
from tests.backends import postgres_database

_TABLES = ("indicator_cursor", "indicator_overview_use", "rollout_plan")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with postgres_database("bindeled_indicators") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'indicators.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = open_store(store_url)
    await opened.open()
    async with opened.transaction() as tx:
        for table in _TABLES:
            await tx.fetch_all(f"DELETE FROM {table}")
    try:
        yield opened
    finally:
        await opened.close()
