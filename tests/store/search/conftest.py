"""Search tests run on stores that index with the real :class:`SearchIndexer`."""

from __future__ import annotations

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.store.base import Indexer
from bindeled.store.search import SearchIndexer


@pytest.fixture
def store_indexer(definitions: Definitions) -> Indexer | None:
    return SearchIndexer(definitions)
