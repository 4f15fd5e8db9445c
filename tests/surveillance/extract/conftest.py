"""A repository on each backend (SQLite file and PostgreSQL) with a clock the test sets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.store.factory import open_store
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from tests.backends import BACKENDS, database_url_for
from tests.surveillance.extract.world import Writer


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        moment = self.now
        self.now += timedelta(microseconds=1)
        return moment


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def validator(definitions: Definitions) -> Validator:
    return Validator(definitions)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Made outside the event loop: creating a PostgreSQL database runs its own loop."""
    with database_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def writer(database_url: str, definitions: Definitions, validator: Validator) -> AsyncIterator[Writer]:
    clock = Clock()
    store = open_store(database_url, indexer=SearchIndexer(definitions), clock=clock)
    await store.open()
    try:
        yield Writer(Repository(store, definitions, validator), clock)
    finally:
        await store.close()
