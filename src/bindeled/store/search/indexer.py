"""The write side of search: a resource → rows for the index tables, in the store's write transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...fhir import jsonio
from ...fhir.definitions import Definitions
from ...fhir.search.registry import SearchRegistry, registry_for
from ..base import IndexRows
from .tables import TABLES, to_row

__all__ = ["SearchIndexer"]


class SearchIndexer:
    """Implements :class:`~bindeled.store.base.Indexer` over every known search parameter.

    Custom SearchParameters registered on the registry (``indexer.registry.register(...)``) are
    indexed for resources written afterwards; existing resources need a re-index.
    """

    def __init__(self, definitions: Definitions | SearchRegistry) -> None:
        self.registry = registry_for(definitions)

    def rows(self, resource_type: str, resource: jsonio.Resource) -> IndexRows:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for code, (param, values) in self.registry.index(resource_type, resource).items():
            table = TABLES[param.type].name
            out.setdefault(table, []).extend(to_row(code, v) for v in values)
        columns = {t.name: t.all_columns for t in TABLES.values()}
        return {name: (columns[name], rows) for name, rows in out.items()}

    def tables(self) -> Sequence[str]:
        return [t.name for t in TABLES.values()]
