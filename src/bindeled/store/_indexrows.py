"""Writing an :class:`~bindeled.store.base.Indexer`'s rows: the SQL both backends run.

Index rows exist only for current, non-deleted versions: a create or update replaces a resource's
rows in every index table, a delete removes them. Table and column names come from the indexer, not
from requests, but they are still checked to be plain identifiers and quoted before they reach SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from .base import Dialect, IndexRows

__all__ = ["delete_everywhere_sql", "delete_sql", "insert_batches", "quote_ident"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier; anything but letters, digits and ``_`` is refused."""
    if not _IDENT.match(name):
        raise ValueError(f"Not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def _placeholders(dialect: Dialect, count: int) -> str:
    if dialect == "sqlite":
        return ", ".join("?" * count)
    return ", ".join(f"${i}" for i in range(1, count + 1))


def delete_sql(table: str, dialect: Dialect) -> str:
    """Remove one resource's rows from an index table (parameters: type, id)."""
    type_ph, id_ph = ("?", "?") if dialect == "sqlite" else ("$1", "$2")
    return f"DELETE FROM {quote_ident(table)} WHERE res_type = {type_ph} AND res_id = {id_ph}"


def delete_everywhere_sql(tables: Sequence[str]) -> str:
    """PostgreSQL: remove one resource's rows from all ``tables`` in one statement (one round trip).

    Data-modifying CTEs run even though nothing reads them; parameters: type, id.
    """
    deletes = ", ".join(
        f"d{i} AS (DELETE FROM {quote_ident(t)} WHERE res_type = $1 AND res_id = $2)" for i, t in enumerate(tables)
    )
    return f"WITH {deletes} SELECT 1"


def insert_batches(
    rows: IndexRows, resource_type: str, id: str, dialect: Dialect
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Per index table: the INSERT statement and its parameter rows, ``res_type`` and ``res_id`` first."""
    for table, (columns, values) in rows.items():
        if not values:
            continue
        names = ", ".join(quote_ident(c) for c in ("res_type", "res_id", *columns))
        sql = f"INSERT INTO {quote_ident(table)} ({names}) VALUES ({_placeholders(dialect, len(columns) + 2)})"
        yield sql, [_row(resource_type, id, columns, value) for value in values]


def _row(resource_type: str, id: str, columns: Sequence[str], value: Sequence[Any]) -> tuple[Any, ...]:
    if len(value) != len(columns):
        raise ValueError(f"An index row has {len(value)} values for {len(columns)} columns")
    return (resource_type, id, *value)
