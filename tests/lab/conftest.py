"""Fixtures for the lab tests: an in-memory sink, a store-backed sink per backend, the asyncio backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.lab import MemorySink
from bindeled.lab.store_sink import StoreSink
from bindeled.store.factory import open_store
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from tests.backends import BACKENDS, database_url_for


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture(scope="module")
def validator(definitions: Definitions) -> Validator:
    return Validator(definitions)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend (a SQLite file, a new PostgreSQL database)."""
    with database_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def store_sink(database_url: str, definitions: Definitions, validator: Validator) -> AsyncIterator[StoreSink]:
    """A :class:`StoreSink` on an opened store."""
    store = open_store(database_url, indexer=SearchIndexer(definitions))
    await store.open()
    try:
        yield StoreSink(Repository(store, definitions, validator))
    finally:
        await store.close()
