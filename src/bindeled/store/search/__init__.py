"""FHIR search in the database: index tables per value type, the indexer, the SQL compiler, the executor.

* :mod:`.tables` — the index tables and how values become rows (DDL in ``migrations/*/0002_search.sql``);
* :mod:`.indexer` — :class:`SearchIndexer`, the store's :class:`~bindeled.store.base.Indexer`;
* :mod:`.compile` — :class:`~bindeled.fhir.search.SearchRequest` → SQL for SQLite or PostgreSQL;
* :mod:`.executor` — :func:`search`: page, total and included resources;
* :mod:`.everything` — :func:`everything`: a compartment's resources (``Patient/$everything``).
"""

from .compile import CompiledSearch, compile_count, compile_search
from .everything import everything
from .executor import SearchResult, search
from .indexer import SearchIndexer
from .tables import TABLES, Table

__all__ = [
    "TABLES",
    "CompiledSearch",
    "SearchIndexer",
    "SearchResult",
    "Table",
    "compile_count",
    "compile_search",
    "everything",
    "search",
]
