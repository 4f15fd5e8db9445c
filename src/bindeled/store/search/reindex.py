"""Rebuild the search index of stored resources (``$reindex``), in batches, on either backend.

Index rows are normally written with each version. When the set of search parameters changes (a
custom SearchParameter registered at run time) the rows of resources already stored are stale; this
module recomputes them. It walks the current, non-deleted resources in primary-key order (keyset
paging, so each batch is an index range scan however large the table), and replaces each batch's rows
in every index table in one short transaction of its own: a large reindex never holds a lock for
long, and what it has done stays done if it is interrupted. The batch's resources are read inside its
transaction (locked ``FOR UPDATE`` on PostgreSQL; SQLite's write lock covers the whole transaction),
so a concurrent update cannot slip in between reading a body and replacing its rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...fhir import jsonio
from .._indexrows import quote_ident
from ..base import Dialect, Indexer, Store, Transaction, run_transaction
from ._params import Params

__all__ = ["DEFAULT_BATCH", "ReindexResult", "reindex"]

DEFAULT_BATCH = 500
"""Resources per transaction: large enough to amortise round trips, small enough to keep locks short."""

_MAX_PARAMS = 30_000
"""Bound parameters per INSERT (SQLite allows 32,766, PostgreSQL 65,535)."""

_Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ReindexResult:
    """What a reindex did."""

    resources: int
    """Resources whose index rows were rebuilt."""
    rows: int
    """Index rows written for them."""
    batches: int


async def reindex(
    store: Store,
    indexer: Indexer,
    *,
    resource_type: str | None = None,
    id: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[ReindexResult], None] | None = None,
) -> ReindexResult:
    """Rebuild the index rows of every current resource (of ``resource_type``, or only ``resource_type/id``).

    ``progress`` is called after each committed batch with the running totals.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if id is not None and resource_type is None:
        raise ValueError("An instance reindex names the resource type")
    after: _Key | None = None
    resources = rows = batches = 0
    while True:
        start = after

        async def work(tx: Transaction, start: _Key | None = start) -> tuple[int, int, _Key | None]:
            return await _batch(tx, store.dialect, indexer, resource_type, id, start, batch_size)

        done, written, after = await run_transaction(store, work)
        if not done:
            break
        resources, rows, batches = resources + done, rows + written, batches + 1
        if progress is not None:
            progress(ReindexResult(resources, rows, batches))
        if done < batch_size or id is not None:
            break
    return ReindexResult(resources, rows, batches)


async def _batch(
    tx: Transaction,
    dialect: Dialect,
    indexer: Indexer,
    resource_type: str | None,
    id: str | None,
    after: _Key | None,
    limit: int,
) -> tuple[int, int, _Key | None]:
    """Reindex the next ``limit`` resources after ``after``; (resources, rows, last key)."""
    found = await tx.fetch_all(*_select(dialect, resource_type, id, after, limit))
    if not found:
        return 0, 0, after
    keys = [(str(t), str(i)) for t, i, _ in found]
    for table in indexer.tables():
        for rtype, ids in _by_type(keys).items():
            p = Params(dialect)
            await tx.fetch_all(
                f"DELETE FROM {quote_ident(table)} WHERE res_type = {p(rtype)} AND res_id IN ({p.many(ids)})", p.values
            )
    pending: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = defaultdict(list)
    for rtype, rid, body in found:
        for table, (columns, values) in indexer.rows(str(rtype), jsonio.decode_stored(bytes(body))).items():
            pending[(table, tuple(columns))].extend((rtype, rid, *v) for v in values)
    written = 0
    for (table, columns), values in pending.items():
        written += len(values)
        await _insert(tx, dialect, table, ("res_type", "res_id", *columns), values)
    return len(found), written, keys[-1]


def _select(
    dialect: Dialect, resource_type: str | None, id: str | None, after: _Key | None, limit: int
) -> tuple[str, list[Any]]:
    p = Params(dialect)
    where = ["deleted = 0" if dialect == "sqlite" else "NOT deleted"]
    if resource_type is not None:
        where.append(f"res_type = {p(resource_type)}")
        if id is not None:
            where.append(f"res_id = {p(id)}")
        elif after is not None:
            where.append(f"res_id > {p(after[1])}")
    elif after is not None:
        where.append(f"(res_type > {p(after[0])} OR (res_type = {p(after[0])} AND res_id > {p(after[1])}))")
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    sql = (
        f"SELECT res_type, res_id, body FROM resources WHERE {' AND '.join(where)} "
        f"ORDER BY res_type, res_id LIMIT {p(limit)}{lock}"
    )
    return sql, p.values


def _by_type(keys: list[_Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for rtype, rid in keys:
        grouped[rtype].append(rid)
    return grouped


async def _insert(
    tx: Transaction, dialect: Dialect, table: str, columns: tuple[str, ...], values: list[tuple[Any, ...]]
) -> None:
    """Multi-row INSERTs, as few as the parameter limit allows."""
    names = ", ".join(quote_ident(c) for c in columns)
    per_statement = max(1, _MAX_PARAMS // len(columns))
    for start in range(0, len(values), per_statement):
        p = Params(dialect)
        tuples = ", ".join(f"({p.many(list(v))})" for v in values[start : start + per_statement])
        await tx.fetch_all(f"INSERT INTO {quote_ident(table)} ({names}) VALUES {tuples}", p.values)
