"""Hub fixtures: an opened store per backend (SQLite file, fresh PostgreSQL database) with a repository."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from tests.backends import BACKENDS, database_url_for


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Stored:
    store: Store
    repo: Repository


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def stored(database_url: str, definitions: Definitions) -> AsyncIterator[Stored]:
    """A fresh, opened store with its repository (tests run their work under ``as_system()``)."""
    store = open_store(database_url, indexer=SearchIndexer(definitions))
    await store.open()
    try:
        yield Stored(store, Repository(store, definitions, Validator(definitions)))
    finally:
        await store.close()
