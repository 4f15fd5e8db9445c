"""The write side of search: a resource → rows for the index tables, in the store's write transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ...fhir import jsonio
from ...fhir.definitions import Definitions
from ...fhir.search._values import own_reference
from ...fhir.search.convert import parse_reference
from ...fhir.search.registry import SearchRegistry, registry_for
from ...fhir.search.values import IndexValue, ReferenceValue
from ..base import IndexRows
from .tables import TABLES, to_row

__all__ = ["SearchIndexer"]


class SearchIndexer:
    """Implements :class:`~bindeled.store.base.Indexer` over every known search parameter.

    Custom SearchParameters registered on the registry (``indexer.registry.register(...)``) are
    indexed for resources written afterwards; existing resources need a re-index
    (:func:`~bindeled.store.search.reindex.reindex`, ``$reindex``).
    """

    def __init__(self, definitions: Definitions | SearchRegistry, *, base_url: str | None = None) -> None:
        """``base_url``: this server's FHIR base; absolute references on it are indexed as ``Type/id`` too."""
        self.registry = registry_for(definitions)
        self.base_url = base_url

    def rows(self, resource_type: str, resource: jsonio.Resource) -> IndexRows:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for code, (param, found) in self.registry.index(resource_type, resource).items():
            table = TABLES[param.type].name
            values = [self._local(v) for v in found] if self.base_url and param.type == "reference" else found
            out.setdefault(table, []).extend(to_row(code, v) for v in values)
        columns = {t.name: t.all_columns for t in TABLES.values()}
        return {name: (columns[name], rows) for name, rows in out.items()}

    def _local(self, value: IndexValue) -> IndexValue:
        """An absolute reference to this server, with its ``Type/id`` filled in (the URL kept)."""
        if not isinstance(value, ReferenceValue) or value.url is None:
            return value
        local = own_reference(value.url, self.base_url)
        ref = parse_reference(local) if local else None
        if ref is None:
            return value
        return replace(value, target_type=ref.target_type, target_id=ref.target_id)

    def tables(self) -> Sequence[str]:
        return [t.name for t in TABLES.values()]
