"""FHIR search in the database: index tables per value type, the indexer, the SQL compiler, the executor.

* :mod:`.tables` — the index tables and how values become rows (DDL in ``migrations/*/0002_search.sql``);
* :mod:`.indexer` — :class:`SearchIndexer`, the store's :class:`~bindeled.store.base.Indexer`;
* :mod:`.compile` — :class:`~bindeled.fhir.search.SearchRequest` → SQL for SQLite or PostgreSQL;
* :mod:`.narrowing` — :class:`JoinScope`: what a caller's chains and ``_has`` may join;
* :mod:`.executor` — :func:`search`: page, total and included resources;
* :mod:`.everything` — :func:`everything`: a compartment's resources (``Patient/$everything``);
* :mod:`.custom` — custom SearchParameters in the store: :func:`load_search_parameters` at start-up;
* :mod:`.reindex` — :func:`reindex`: rebuild stored resources' index rows in batches (``$reindex``).
"""

from .compile import CompiledSearch, compile_count, compile_search
from .custom import load_search_parameters
from .everything import everything
from .executor import SearchResult, search
from .indexer import SearchIndexer
from .reindex import ReindexResult, reindex
from .tables import TABLES, Table

__all__ = [
    "TABLES",
    "CompiledSearch",
    "ReindexResult",
    "SearchIndexer",
    "SearchResult",
    "Table",
    "compile_count",
    "compile_search",
    "everything",
    "load_search_parameters",
    "reindex",
    "search",
]
