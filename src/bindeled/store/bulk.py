"""Bulk loading: many new resources at once, each as version 1 with its search-index rows.

The normal write path (a transaction, one ``create``/``update`` per resource, the repository's rules, the
gate and the audit around it) writes a few hundred resources a second; a region-sized synthetic data set
(millions of resources, for the demo and the benchmarks) needs more. :func:`bulk_load` writes the same
rows the normal path writes — ``resources`` and ``resource_history`` with the stamped body
(``id``, ``meta.versionId`` 1, ``meta.lastUpdated``), and the store's own :class:`~.base.Indexer` rows
for the stamped body — so search, ``$everything`` and ``$overview`` see bulk-loaded data exactly as if
it had been written through the API. It writes them in large batches instead: on SQLite one
``executemany`` per table in one transaction per batch, on PostgreSQL ``COPY`` (asyncpg's binary copy)
per table in one transaction per batch. Preparing the next batch (stamping, indexing) runs in a worker
thread while the previous one is written.

What it deliberately does not do, because it is for synthetic or already-checked data loaded by
bindeled itself: no validation, no write rules (the data must already be shaped as the rules would
leave it), no security gate, **no audit entries and no MinLog entries** (nobody's data is accessed),
no Subscription notifications. Every resource must be new: an id that exists (or repeats in the input)
fails its batch with :class:`~bindeled.errors.Conflict`; earlier batches stay committed.

``defer_indexes=True`` drops the secondary, non-unique indexes of the resource and search tables before
loading and builds them again afterwards (also after a failure), which is much faster for a large load
into a database nobody is using yet; readers meanwhile see slow queries.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from collections import deque
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

import anyio
import asyncpg

from ..errors import Conflict
from ..fhir import jsonio
from ._indexrows import quote_ident
from ._records import check_method, check_type, format_instant, new_id, now_utc, stamp
from .base import Clock, Indexer, Store, utc_now

__all__ = ["BulkResult", "bulk_load"]

_COLUMNS = ("res_type", "res_id", "version", "last_updated", "deleted", "method", "body")
_ROW_TABLES = ("resources", "resource_history")
_DEFERRABLE_TABLES = (*_ROW_TABLES, "search_token", "search_string", "search_reference", "search_date",
                      "search_number", "search_quantity", "search_uri", "search_composite")  # fmt: skip


@dataclass
class BulkResult:
    """What a bulk load wrote."""

    resources: int = 0
    index_rows: int = 0


@dataclass
class _Batch:
    """One batch ready to write: version rows and index rows per (table, columns)."""

    versions: list[tuple[str, str, datetime, bytes]] = field(default_factory=list)
    """(type, id, last updated, stamped body)."""
    index: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = field(default_factory=dict)

    @property
    def index_rows(self) -> int:
        return sum(len(rows) for rows in self.index.values())


def _prepare(resources: Iterator[jsonio.Resource], size: int, indexer: Indexer | None, clock: Clock) -> _Batch | None:
    """Stamp and index the next ``size`` resources (None when the input is exhausted)."""
    chunk = list(islice(resources, size))
    if not chunk:
        return None
    batch = _Batch()
    for resource in chunk:
        resource_type = str(resource.get("resourceType"))
        check_type(resource_type, resource)
        id = str(resource.get("id") or new_id())
        moment = now_utc(clock)
        stamped, body = stamp(resource_type, id, 1, moment, resource)
        batch.versions.append((resource_type, id, moment, body))
        if indexer is None:
            continue
        for table, (columns, values) in indexer.rows(resource_type, stamped).items():
            if not values:
                continue
            names = ("res_type", "res_id", *columns)
            rows = batch.index.setdefault((table, names), [])
            for value in values:
                if len(value) != len(columns):
                    raise ValueError(f"An index row has {len(value)} values for {len(columns)} columns")
                rows.append((resource_type, id, *value))
    return batch


async def bulk_load(
    store: Store,
    resources: Iterable[jsonio.Resource],
    *,
    batch_size: int = 2000,
    method: str = "POST",
    defer_indexes: bool = False,
    workers: int = 0,
) -> BulkResult:
    """Write ``resources`` (new ones, ids kept or assigned) with their index rows; see the module docstring.

    ``method`` is recorded as the interaction that made version 1 (``POST`` or ``PUT``). The store's own
    indexer and clock are used, so the rows are those its normal writes would make. ``workers`` > 0
    stamps and indexes batches in that many forked processes (indexing is most of the cost); 0 uses one
    thread beside the writes.
    """
    check_method(method)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    writer = _writer_for(store, method)
    indexer: Indexer | None = getattr(store, "indexer", None)
    clock: Clock = getattr(store, "clock", utc_now)
    result = BulkResult()
    deferred = await writer.drop_indexes() if defer_indexes else []
    try:
        writing: asyncio.Future[None] | None = None
        try:
            async with aclosing(_batches(iter(resources), batch_size, indexer, clock, workers)) as batches:
                async for batch in batches:
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(writer.write(batch))
                    result.resources += len(batch.versions)
                    result.index_rows += batch.index_rows
        finally:
            if writing is not None:
                await writing
    finally:
        if deferred:
            with anyio.CancelScope(shield=True):
                await writer.create_indexes(deferred)
    await writer.analyze()
    return result


_worker_state: tuple[Indexer | None, Clock] | None = None
"""The indexer and clock of a forked preparing process (set by its initializer)."""


def _init_worker(indexer: Indexer | None, clock: Clock) -> None:
    global _worker_state
    _worker_state = (indexer, clock)


def _prepare_in_worker(chunk: list[jsonio.Resource]) -> _Batch | None:
    if _worker_state is None:
        raise RuntimeError("The preparing process was not initialised")
    return _prepare(iter(chunk), len(chunk), *_worker_state)


async def _batches(
    source: Iterator[jsonio.Resource], size: int, indexer: Indexer | None, clock: Clock, workers: int
) -> AsyncGenerator[_Batch, None]:
    """Prepared batches in input order; up to ``workers`` + 1 are prepared ahead of the writes."""
    if workers <= 0:
        while (batch := await anyio.to_thread.run_sync(_prepare, source, size, indexer, clock)) is not None:
            yield batch
        return
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("fork")  # the children inherit the indexer instead of rebuilding it
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(indexer, clock)) as pool:
        pending: deque[asyncio.Future[_Batch | None]] = deque()
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) <= workers:
                chunk = list(islice(source, size))
                if chunk:
                    pending.append(loop.run_in_executor(pool, _prepare_in_worker, chunk))
                else:
                    exhausted = True
            batch = await pending.popleft()
            if batch is not None:
                yield batch


def _writer_for(store: Store, method: str) -> _SQLiteWriter | _PostgresWriter:
    from .postgres import PostgresStore
    from .sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return _SQLiteWriter(store, method)
    if isinstance(store, PostgresStore):
        return _PostgresWriter(store, method)
    raise TypeError(f"No bulk load for {type(store).__name__}")


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(quote_ident(c) for c in columns)
    return f"INSERT INTO {quote_ident(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"


class _SQLiteWriter:
    """Each batch in one ``BEGIN IMMEDIATE`` … ``COMMIT`` on the store's writer connection."""

    def __init__(self, store: Any, method: str) -> None:
        self.store = store
        self.method = method

    async def write(self, batch: _Batch) -> None:
        await self.store.run_on_writer(lambda conn: self._write(conn, batch))

    def _write(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        rows = [(t, i, 1, format_instant(m), 0, self.method, body) for t, i, m, body in batch.versions]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in _ROW_TABLES:
                conn.executemany(_insert_sql(table, _COLUMNS), rows)
            for (table, columns), values in batch.index.items():
                conn.executemany(_insert_sql(table, columns), values)
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            raise Conflict("A bulk-loaded resource already exists (or repeats in the batch)") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def drop_indexes(self) -> list[tuple[str, str]]:
        def drop(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            marks = ", ".join("?" * len(_DEFERRABLE_TABLES))
            found = conn.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks})"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'",
                _DEFERRABLE_TABLES,
            ).fetchall()
            for name, _sql in found:
                conn.execute(f"DROP INDEX {quote_ident(name)}")
            return [(str(n), str(s)) for n, s in found]

        deferred: list[tuple[str, str]] = await self.store.run_on_writer(drop)
        return deferred

    async def create_indexes(self, deferred: list[tuple[str, str]]) -> None:
        def create(conn: sqlite3.Connection) -> None:
            for _name, sql in deferred:
                conn.execute(sql)

        await self.store.run_on_writer(create)

    async def analyze(self) -> None:
        await self.store.run_on_writer(lambda conn: conn.execute("ANALYZE"))


class _PostgresWriter:
    """Each batch in one transaction of ``COPY … FROM STDIN (FORMAT binary)``, one per table."""

    def __init__(self, store: Any, method: str) -> None:
        self.store = store
        self.method = method

    async def write(self, batch: _Batch) -> None:
        rows = [(t, i, 1, m, False, self.method, body) for t, i, m, body in batch.versions]
        async with self.store.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    for table in _ROW_TABLES:
                        await conn.copy_records_to_table(table, records=rows, columns=_COLUMNS)
                    for (table, columns), values in batch.index.items():
                        await conn.copy_records_to_table(table, records=values, columns=columns)
            except asyncpg.UniqueViolationError as exc:
                raise Conflict("A bulk-loaded resource already exists (or repeats in the batch)") from exc

    async def drop_indexes(self) -> list[tuple[str, str]]:
        sql = (
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
            " AND i.tablename = ANY($1::text[]) AND i.indexdef NOT LIKE 'CREATE UNIQUE%'"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        async with self.store.pool.acquire() as conn:
            found = await conn.fetch(sql, list(_DEFERRABLE_TABLES))
            async with conn.transaction():
                for row in found:
                    await conn.execute(f"DROP INDEX {quote_ident(row[0])}")
        return [(str(row[0]), str(row[1])) for row in found]

    async def create_indexes(self, deferred: list[tuple[str, str]]) -> None:
        async with self.store.pool.acquire() as conn:
            await conn.execute("SET maintenance_work_mem = '256MB'")
            for _name, sql in deferred:
                await conn.execute(sql)
            await conn.execute("RESET maintenance_work_mem")

    async def analyze(self) -> None:
        async with self.store.pool.acquire() as conn:
            await conn.execute("ANALYZE")
