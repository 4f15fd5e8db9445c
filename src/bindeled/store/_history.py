"""The SQL of a history interaction, shared by both backends.

Versions come newest first, ordered by ``seq`` (the order in which they were written), which stays
stable while new versions arrive; ``until`` fixes the result set for paging. ``_at`` keeps, per
resource, the version with the highest version number among those written at or before the
instant: the version that was current then (a tombstone when the resource was deleted then).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .base import Dialect, HistoryQuery

__all__ = ["COLUMNS", "history_count_sql", "history_sql"]

COLUMNS = "res_type, res_id, version, last_updated, deleted, method, body"
"""The columns every version read selects, in :class:`~bindeled.store.base.StoredResource` order."""

TimeParam = Callable[[datetime], Any]


class _Params:
    """Collects parameters and hands out placeholders in the dialect's style."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return "?" if self.dialect == "sqlite" else f"${len(self.values)}"


def _where(query: HistoryQuery, params: _Params, time_param: TimeParam) -> str:
    if query.id is not None and query.resource_type is None:
        raise ValueError("An instance history needs the resource type")
    conditions: list[str] = []
    if query.resource_type is not None:
        conditions.append(f"h.res_type = {params.add(query.resource_type)}")
    if query.id is not None:
        conditions.append(f"h.res_id = {params.add(query.id)}")
    if query.since is not None:
        conditions.append(f"h.last_updated >= {params.add(time_param(query.since))}")
    if query.until is not None:
        conditions.append(f"h.last_updated <= {params.add(time_param(query.until))}")
    if query.at is not None:
        at = time_param(query.at)
        conditions.append(f"h.last_updated <= {params.add(at)}")
        conditions.append(
            "NOT EXISTS (SELECT 1 FROM resource_history n WHERE n.res_type = h.res_type AND n.res_id = h.res_id"
            f" AND n.version > h.version AND n.last_updated <= {params.add(at)})"
        )
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def history_sql(query: HistoryQuery, dialect: Dialect, time_param: TimeParam) -> tuple[str, list[Any]]:
    """The page of versions ``query`` asks for: SQL and parameters."""
    if query.count < 0 or query.offset < 0:
        raise ValueError("count and offset must not be negative")
    params = _Params(dialect)
    where = _where(query, params, time_param)
    limit, offset = params.add(query.count), params.add(query.offset)
    sql = f"SELECT {COLUMNS} FROM resource_history h{where} ORDER BY h.seq DESC LIMIT {limit} OFFSET {offset}"
    return sql, params.values


def history_count_sql(query: HistoryQuery, dialect: Dialect, time_param: TimeParam) -> tuple[str, list[Any]]:
    """How many versions ``query`` matches in all: SQL and parameters."""
    params = _Params(dialect)
    return f"SELECT count(*) FROM resource_history h{_where(query, params, time_param)}", params.values
