"""The search-index tables: one per value type, and how an index value becomes a row.

Every table has ``res_type``, ``res_id`` (added by the store) and ``param`` (the parameter code),
then the columns of its value type. The DDL is in ``migrations/*/0002_search.sql``; this module is
the single place that names the columns, for the indexer and the SQL compiler alike.

Numbers are stored as double precision in both databases (SQLite has no decimal type, and both
backends must give the same answers); open range ends use :data:`NUMBER_MIN` / :data:`NUMBER_MAX`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...fhir.search.values import (
    CompositeValue,
    DateValue,
    IndexValue,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
)

__all__ = ["COMPOSITE_COLUMNS", "NUMBER_MAX", "NUMBER_MIN", "TABLES", "Table", "table_for", "to_row"]

NUMBER_MIN = -1e300
NUMBER_MAX = 1e300


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    """Value columns after ``param``."""

    @property
    def all_columns(self) -> tuple[str, ...]:
        return ("param", *self.columns)


TABLES: dict[str, Table] = {
    "token": Table("search_token", ("system", "code", "text", "type_system", "type_code")),
    "string": Table("search_string", ("norm", "exact")),
    "reference": Table(
        "search_reference", ("target_type", "target_id", "url", "identifier_system", "identifier_value")
    ),
    "date": Table("search_date", ("low", "high")),
    "number": Table("search_number", ("low", "high")),
    "quantity": Table("search_quantity", ("low", "high", "system", "code", "unit")),
    "uri": Table("search_uri", ("value",)),
    "composite": Table(
        "search_composite",
        tuple(f"{col}{i}" for i in (1, 2, 3) for col in ("s", "v", "w", "lo", "hi")),
    ),
}
"""Parameter type → its index table."""


def table_for(param_type: str) -> Table:
    return TABLES[param_type]


def _num(value: Decimal | None, default: float) -> float:
    return default if value is None else float(value)


_ROW: dict[type, Callable[[Any], Sequence[Any]]] = {
    TokenValue: lambda v: (v.system, v.code, v.text, v.type_system, v.type_code),
    StringValue: lambda v: (v.norm, v.exact),
    ReferenceValue: lambda v: (v.target_type, v.target_id, v.url, v.identifier_system, v.identifier_value),
    DateValue: lambda v: (v.low, v.high),
    NumberValue: lambda v: (_num(v.low, NUMBER_MIN), _num(v.high, NUMBER_MAX)),
    QuantityValue: lambda v: (_num(v.low, NUMBER_MIN), _num(v.high, NUMBER_MAX), v.system, v.code, v.unit),
    UriValue: lambda v: (v.value,),
}


COMPOSITE_COLUMNS: dict[str, dict[str, str]] = {
    "token": {"system": "s", "code": "v", "text": "w"},
    "string": {"norm": "v", "exact": "w"},
    "reference": {"target_type": "s", "target_id": "v", "url": "w"},
    "date": {"low": "v", "high": "w"},
    "number": {"low": "lo", "high": "hi"},
    "quantity": {"system": "s", "code": "v", "unit": "w", "low": "lo", "high": "hi"},
    "uri": {"value": "v"},
}
"""Per component type: its value-table column → the composite column stem (numbered by position)."""

_KIND = {
    TokenValue: "token",
    StringValue: "string",
    ReferenceValue: "reference",
    DateValue: "date",
    NumberValue: "number",
    QuantityValue: "quantity",
    UriValue: "uri",
}


def _composite_row(value: CompositeValue) -> tuple[Any, ...]:
    cells: dict[str, Any] = {}
    for i, part in enumerate(value.parts, start=1):
        kind = _KIND[type(part)]
        values = dict(zip(TABLES[kind].columns, _ROW[type(part)](part), strict=True))
        for column, stem in COMPOSITE_COLUMNS[kind].items():
            cells[f"{stem}{i}"] = values[column]
    return tuple(cells.get(c) for c in TABLES["composite"].columns)


def to_row(param: str, value: IndexValue) -> tuple[Any, ...]:
    """The row (``param`` first) that stores one index value."""
    if isinstance(value, CompositeValue):
        return (param, *_composite_row(value))
    return (param, *_ROW[type(value)](value))
