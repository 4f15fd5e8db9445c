"""The PostgreSQL backend: an asyncpg pool, one pooled connection per transaction.

Bodies are stored as the exact bytes written (``bytea``): ``jsonb`` would reorder keys and rewrite
decimals, and a FHIR server must return what it stored. Instants are ``timestamptz``.

Concurrency, at PostgreSQL's default READ COMMITTED:

- An update or delete first locks the resource's current row (``SELECT … FOR UPDATE``); concurrent
  writers of one resource queue there, each sees its predecessor's version, and versions come out
  1, 2, 3, … without gaps or lost updates.
- A resource with no row yet is created with ``INSERT … ON CONFLICT DO NOTHING``, which waits for a
  concurrent insert of the same id. When that one wins, an update carries on as an update of the row
  it just committed (no unique-violation error); a create raises :class:`~bindeled.errors.Conflict`.
- Deadlocks, serialization failures and lock timeouts roll the transaction back and surface as
  :class:`~bindeled.store.base.TransientConflict`, which :func:`~bindeled.store.base.run_transaction`
  retries a bounded number of times.
- A statement that fails aborts a PostgreSQL transaction. Refusals (``Conflict``,
  ``PreconditionFailed``) are decided before anything is written and leave it usable; after any other
  error, further operations raise :class:`RuntimeError` and leaving the block without an exception
  raises :class:`RuntimeError` too (instead of PostgreSQL's silent rollback on COMMIT).
- Index rows from the :class:`~bindeled.store.base.Indexer` are buffered in the transaction and sent
  with one ``executemany`` per index table before a query in the transaction (``fetch_all``) and
  before commit, so a transaction of many resources costs a few round trips, not a few per resource.
- ``resource_history.seq`` is an identity column: numbers are handed out at insert time, so two
  transactions may commit in the other order than their numbers. History is ordered by it for a stable
  order; ``until`` (a time bound) is what fixes a result set for paging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

import anyio
import asyncpg

from ..errors import BindeledError
from ..fhir import jsonio
from . import _history
from ._indexrows import delete_everywhere_sql, insert_batches
from ._postgres_migrate import PostgresMigrationTarget
from ._records import (
    as_utc,
    check_if_match,
    check_method,
    check_type,
    conflict_exists,
    new_id,
    now_utc,
    stamp,
)
from .base import Clock, Dialect, HistoryQuery, Indexer, StoredResource, TransientConflict, UndoLog, utc_now
from .migrate import Migration, load_migrations, migrate

__all__ = ["PostgresStore", "PostgresTransaction"]

_TRANSIENT = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.LockNotAvailableError,
)
_COLS = _history.COLUMNS
_SELECT_CURRENT = f"SELECT {_COLS} FROM resources WHERE res_type = $1 AND res_id = $2"
_SELECT_LOCKED = _SELECT_CURRENT + " FOR UPDATE"
_INSERT_FIRST = f"""
WITH cur AS (
    INSERT INTO resources ({_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (res_type, res_id) DO NOTHING
    RETURNING {_COLS}
)
INSERT INTO resource_history ({_COLS}) SELECT {_COLS} FROM cur RETURNING seq"""
_UPDATE_NEXT = f"""
WITH cur AS (
    UPDATE resources SET version = $3, last_updated = $4, deleted = $5, method = $6, body = $7
    WHERE res_type = $1 AND res_id = $2
    RETURNING {_COLS}
)
INSERT INTO resource_history ({_COLS}) SELECT {_COLS} FROM cur RETURNING seq"""
_READ_MANY = f"""
SELECT {_COLS} FROM resources r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.res_type = k.t AND r.res_id = k.i
WHERE NOT r.deleted"""


def _stored(row: Any) -> StoredResource:
    return StoredResource(row[0], row[1], row[2], row[3], row[4], row[5], bytes(row[6]))


class PostgresStore:
    """A :class:`~bindeled.store.base.Store` in a PostgreSQL database."""

    dialect: Dialect = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        indexer: Indexer | None = None,
        clock: Clock = utc_now,
        min_size: int = 1,
        max_size: int = 10,
        auto_migrate: bool = True,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        """``dsn`` is a ``postgresql://`` URL; ``min_size``/``max_size`` bound the connection pool."""
        self.dsn = dsn
        self.indexer = indexer
        self.clock = clock
        self.min_size = min_size
        self.max_size = max_size
        self.auto_migrate = auto_migrate
        self.migrations = list(migrations) if migrations is not None else load_migrations("postgresql")
        self._pool: Any = None

    async def open(self) -> None:
        """Create the pool and (unless ``auto_migrate`` is off) apply pending migrations."""
        if self._pool is not None:
            raise RuntimeError("The store is already open")
        # Custom plans per execution: asyncpg reuses prepared statements, and PostgreSQL's generic plan for
        # search SQL ignores how selective the actual values are (94 ms instead of 3 ms measured at 100k).
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=self.min_size,
            max_size=self.max_size,
            server_settings={"plan_cache_mode": "force_custom_plan"},
            reset=_keep_session,
        )
        if self.auto_migrate:
            try:
                await self.migrate()
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await self.close()
                raise

    async def close(self) -> None:
        """Close the pool, waiting for connections in use to be released. Safe to call twice."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @property
    def pool(self) -> Any:
        """The asyncpg pool (for tests and tools that need a raw connection)."""
        if self._pool is None:
            raise RuntimeError("The store is not open")
        return self._pool

    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        """Apply pending migrations (or, with ``dry_run``, only list them) under an advisory lock."""
        async with self.pool.acquire() as conn:
            return await migrate(PostgresMigrationTarget(conn), self.migrations, dry_run=dry_run)

    # -- transactions --------------------------------------------------------------------------------

    def transaction(self) -> AbstractAsyncContextManager[PostgresTransaction]:
        """A write transaction on one pooled connection; rolled back on any exception."""
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[PostgresTransaction]:
        async with self.pool.acquire() as conn:
            pg_tx = conn.transaction()
            await pg_tx.start()
            tx = PostgresTransaction(conn, self.indexer, self.clock)
            committed = False
            try:
                try:
                    yield tx
                except BaseException:
                    tx.closed = True
                    with anyio.CancelScope(shield=True):
                        await _rollback(conn, pg_tx)
                    raise
                with anyio.CancelScope(shield=True):
                    try:
                        if tx.failure is None:
                            await tx.flush_index_rows()
                    except BaseException:
                        await _rollback(conn, pg_tx)
                        raise
                    finally:
                        tx.closed = True
                    await _commit(conn, pg_tx, tx.failure)
                committed = True
            finally:
                if not committed:
                    tx.undo.run()

    # -- reads ---------------------------------------------------------------------------------------

    async def read(self, resource_type: str, id: str) -> StoredResource | None:
        row = await self.pool.fetchrow(_SELECT_CURRENT, resource_type, id)
        return None if row is None else _stored(row)

    async def vread(self, resource_type: str, id: str, version_id: int) -> StoredResource | None:
        sql = f"SELECT {_COLS} FROM resource_history WHERE res_type = $1 AND res_id = $2 AND version = $3"
        row = await self.pool.fetchrow(sql, resource_type, id, version_id)
        return None if row is None else _stored(row)

    async def read_many(self, keys: Sequence[tuple[str, str]]) -> list[StoredResource]:
        unique = list(dict.fromkeys(keys))
        rows = await self.pool.fetch(_READ_MANY, [k[0] for k in unique], [k[1] for k in unique])
        found = {(row[0], row[1]): _stored(row) for row in rows}
        return [found[key] for key in keys if key in found]

    async def history(self, query: HistoryQuery) -> list[StoredResource]:
        sql, params = _history.history_sql(query, "postgresql", as_utc)
        return [_stored(row) for row in await self.pool.fetch(sql, *params)]

    async def history_count(self, query: HistoryQuery) -> int:
        sql, params = _history.history_count_sql(query, "postgresql", as_utc)
        count: int = await self.pool.fetchval(sql, *params)
        return count

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.pool.fetch(sql, *params)]


async def _keep_session(conn: Any) -> None:
    """Release a pooled connection without asyncpg's reset query (a round trip on every release).

    asyncpg still rolls back an open transaction first. The reset query would also drop session
    state, which this store never leaves behind: its locks are transaction-scoped
    (``pg_advisory_xact_lock``), it neither listens nor keeps cursors, and the two users of session
    state (the migration lock, the bulk loader's ``maintenance_work_mem``) undo it themselves.
    """


async def _rollback(conn: Any, pg_tx: Any) -> None:
    try:
        await pg_tx.rollback()
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        # The connection is in no state to reuse (e.g. cancelled mid-query): drop it from the pool.
        conn.terminate()


async def _commit(conn: Any, pg_tx: Any, failure: BaseException | None) -> None:
    if failure is not None:
        # PostgreSQL turns COMMIT of a failed transaction into ROLLBACK without an error; say so.
        await _rollback(conn, pg_tx)
        raise RuntimeError("A statement in this transaction failed earlier; it was rolled back") from failure
    try:
        with _translated():
            await pg_tx.commit()
    except BaseException:
        await _rollback(conn, pg_tx)
        raise


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except _TRANSIENT as exc:
        raise TransientConflict("The transaction met a concurrent one; it was rolled back") from exc


class PostgresTransaction:
    """One open transaction on a pooled connection (see :class:`~bindeled.store.base.Transaction`)."""

    def __init__(self, conn: Any, indexer: Indexer | None, clock: Clock) -> None:
        self._conn = conn
        self._indexer = indexer
        self._clock = clock
        self.closed = False
        self.undo = UndoLog()
        self.failure: BaseException | None = None
        """The database error that aborted this transaction, if one did."""
        self._index_rows: dict[tuple[str, str], list[tuple[str, list[tuple[Any, ...]]]]] = {}
        """Index rows not yet sent, per resource: (INSERT statement, rows) pairs."""
        self._locked: dict[tuple[str, str], StoredResource] = {}
        """Rows :meth:`read` locked and nothing has written since: the write that follows (an update after
        the repository's read) needs no second ``SELECT … FOR UPDATE``. Taken by the next write of the
        resource, and forgotten on any hand-written statement (it could have written anything)."""

    @contextmanager
    def _guard(self) -> Iterator[None]:
        if self.closed:
            raise RuntimeError("The transaction has ended")
        if self.failure is not None:
            raise RuntimeError("A statement in this transaction failed earlier") from self.failure
        try:
            with _translated():
                yield
        except BaseException as exc:
            # Refusals (Conflict, PreconditionFailed, …) come before anything is written and leave the
            # transaction usable; anything else may have left half an operation behind.
            if isinstance(exc, TransientConflict) or not isinstance(exc, BindeledError):
                self.failure = exc
            raise

    def on_rollback(self, undo: Callable[[], None]) -> None:
        self.undo.add(undo)

    async def read(self, resource_type: str, id: str) -> StoredResource | None:
        with self._guard():
            row = await self._conn.fetchrow(_SELECT_LOCKED, resource_type, id)
        if row is None:
            return None
        self._locked[(resource_type, id)] = found = _stored(row)
        return found

    async def _lock_current(self, resource_type: str, id: str) -> StoredResource | None:
        """The current row, locked (as :meth:`read` left it, when nothing has written it since)."""
        known = self._locked.pop((resource_type, id), None)
        if known is not None:
            return known
        row = await self._conn.fetchrow(_SELECT_LOCKED, resource_type, id)
        return None if row is None else _stored(row)

    async def create(self, resource_type: str, resource: jsonio.Resource, id: str | None = None) -> StoredResource:
        check_type(resource_type, resource)
        with self._guard():
            created = await self._insert_first(resource_type, id or new_id(), resource, "POST")
        if created is None:
            raise conflict_exists(resource_type)
        return created

    async def update(
        self,
        resource_type: str,
        id: str,
        resource: jsonio.Resource,
        *,
        if_match: int | None = None,
        method: str = "PUT",
    ) -> tuple[StoredResource, bool]:
        check_type(resource_type, resource)
        check_method(method)
        with self._guard():
            return await self._update(resource_type, id, resource, if_match, method)

    async def _update(
        self, resource_type: str, id: str, resource: jsonio.Resource, if_match: int | None, method: str
    ) -> tuple[StoredResource, bool]:
        # Two rounds at most: when a concurrent transaction inserts the id first, the second round
        # finds (and locks) its committed row; rows are never removed from ``resources``.
        for _ in range(2):
            previous = await self._lock_current(resource_type, id)
            if previous is None:
                check_if_match(resource_type, None, if_match)
                created = await self._insert_first(resource_type, id, resource, method)
                if created is not None:
                    return created, True
                continue
            check_if_match(resource_type, previous.version_id, if_match)
            return await self._write_next(previous, resource, method), previous.deleted
        raise RuntimeError("The resource row vanished while it was locked")

    async def delete(self, resource_type: str, id: str, *, if_match: int | None = None) -> StoredResource | None:
        with self._guard():
            previous = await self._lock_current(resource_type, id)
            if previous is None or previous.deleted:
                return None
            check_if_match(resource_type, previous.version_id, if_match)
            return await self._write_next(previous, None, "DELETE")

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        await self.flush_index_rows()  # a search inside the transaction must see them
        self._locked.clear()
        with self._guard():
            rows = await self._conn.fetch(sql, *params)
        return [tuple(row) for row in rows]

    async def flush_index_rows(self) -> None:
        """Send the buffered index rows: one ``executemany`` per statement for the whole batch."""
        if not self._index_rows:
            return
        batches: dict[str, list[tuple[Any, ...]]] = {}
        for statements in self._index_rows.values():
            for sql, rows in statements:
                batches.setdefault(sql, []).extend(rows)
        self._index_rows.clear()
        with self._guard():
            for sql, rows in batches.items():
                await self._conn.executemany(sql, rows)

    async def _insert_first(
        self, resource_type: str, id: str, resource: jsonio.Resource, method: str
    ) -> StoredResource | None:
        """Write version 1 unless a row for the id exists (then None, and nothing is written)."""
        moment = now_utc(self._clock)
        stamped, body = stamp(resource_type, id, 1, moment, resource)
        if await self._conn.fetchval(_INSERT_FIRST, resource_type, id, 1, moment, False, method, body) is None:
            return None
        await self._reindex(resource_type, id, stamped, had_rows=False)
        return StoredResource(resource_type, id, 1, moment, False, method, body)

    async def _write_next(
        self, previous: StoredResource, resource: jsonio.Resource | None, method: str
    ) -> StoredResource:
        """Write the version after ``previous`` (a tombstone when ``resource`` is None)."""
        resource_type, id, version = previous.resource_type, previous.id, previous.version_id + 1
        moment = now_utc(self._clock)
        stamped, body = (None, b"") if resource is None else stamp(resource_type, id, version, moment, resource)
        await self._conn.fetchval(_UPDATE_NEXT, resource_type, id, version, moment, stamped is None, method, body)
        await self._reindex(resource_type, id, stamped, had_rows=not previous.deleted)
        return StoredResource(resource_type, id, version, moment, stamped is None, method, body)

    async def _reindex(self, resource_type: str, id: str, resource: jsonio.Resource | None, *, had_rows: bool) -> None:
        # Index rows exist only for current, non-deleted versions (see the SQLite writer). New rows
        # wait in a buffer until commit (or a query in this transaction): a transaction of many
        # resources then costs one round trip per index table instead of one per resource and table.
        if self._indexer is None:
            return
        key = (resource_type, id)
        if had_rows:
            self._index_rows.pop(key, None)
            tables = self._indexer.tables()
            if tables:
                await self._conn.execute(delete_everywhere_sql(tables), resource_type, id)
        if resource is not None:
            rows = self._indexer.rows(resource_type, resource)
            self._index_rows[key] = list(insert_batches(rows, resource_type, id, "postgresql"))
