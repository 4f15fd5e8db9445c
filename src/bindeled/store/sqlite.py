"""The SQLite backend: the embedded default, built on the standard library's ``sqlite3``.

Connections and threads (the datasette pattern):

- **One writer connection** on one dedicated thread. A transaction holds an asyncio lock for its
  whole life, so one transaction at a time uses it; each operation is one hop to the writer thread.
  ``BEGIN IMMEDIATE`` runs with the transaction's first operation (same hop) and takes SQLite's write
  lock before anything is read, which also serialises
  writers in other processes (or other :class:`SQLiteStore` instances) on the same file; they wait up
  to ``busy_timeout`` seconds, then fail with :class:`~bindeled.store.base.TransientConflict`.
- **Reader connections** (``query_only``) on a pool of reader threads, one connection per thread.
  In WAL mode readers see the last committed state and never wait for the writer.
- **``:memory:``** databases exist per connection, so there the writer connection serves reads too:
  a read takes the writer lock, and therefore waits while a transaction is open (it sees committed
  data only). A store-level read (or a second transaction) from the task that has the store's
  transaction open would wait for itself; it raises :class:`RuntimeError` instead (use the
  transaction's own ``read``/``fetch_all``).

Pragmas: ``journal_mode=WAL`` (file databases), ``synchronous=NORMAL`` (durable at checkpoints, never
corrupt), ``foreign_keys=ON``. Instants are stored as fixed-width text, see :mod:`._records`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import anyio

from . import _history
from ._records import format_instant, new_id
from ._sqlite_migrate import SQLiteMigrationTarget
from ._sqlite_writes import Writer, numbered, stored
from .base import Clock, Dialect, HistoryQuery, Indexer, StoredResource, TransientConflict, UndoLog, utc_now
from .migrate import Migration, load_migrations, migrate

__all__ = ["SQLiteStore", "SQLiteTransaction"]

T = TypeVar("T")

_READ_MANY_CHUNK = 400
"""Keys per ``read_many`` statement: two parameters each, well below SQLite's parameter limit."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class SQLiteStore:
    """A :class:`~bindeled.store.base.Store` in one SQLite file (or in memory)."""

    dialect: Dialect = "sqlite"

    def __init__(
        self,
        path: str,
        *,
        indexer: Indexer | None = None,
        clock: Clock = utc_now,
        readers: int = 4,
        busy_timeout: float = 30.0,
        auto_migrate: bool = True,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        """``path`` is a file path or ``:memory:``; ``readers`` is the number of reader threads."""
        self.path = path
        self.memory = path == ":memory:"
        self.indexer = indexer
        self.clock = clock
        self.readers = readers
        self.busy_timeout = busy_timeout
        self.auto_migrate = auto_migrate
        self.migrations = list(migrations) if migrations is not None else load_migrations("sqlite")
        self._writer_thread: ThreadPoolExecutor | None = None
        self._reader_threads: ThreadPoolExecutor | None = None
        self._writer: sqlite3.Connection | None = None
        self._reader_local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_conns_lock = threading.Lock()
        self._write_lock = asyncio.Lock()
        self._tx_task: asyncio.Task[Any] | None = None
        """The task whose transaction holds the write lock (to refuse waiting for ourselves)."""

    # -- life cycle --------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, set the pragmas and (unless ``auto_migrate`` is off) apply pending migrations."""
        if self._writer is not None:
            raise RuntimeError("The store is already open")
        self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="bindeled-sqlite-writer")
        self._writer = await self._on_writer(partial(self._connect, writer=True))
        if not self.memory:
            self._reader_threads = ThreadPoolExecutor(self.readers, thread_name_prefix="bindeled-sqlite-reader")
        if self.auto_migrate:
            try:
                await self.migrate()
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await self.close()
                raise

    async def close(self) -> None:
        """Wait for running work, then close every connection. Safe to call twice."""
        if self._writer is None:
            return
        async with self._write_lock:
            writer, self._writer = self._writer, None
        await anyio.to_thread.run_sync(self._shutdown, writer)

    def _shutdown(self, writer: sqlite3.Connection) -> None:
        if self._reader_threads is not None:
            self._reader_threads.shutdown(wait=True)
        if self._writer_thread is not None:
            self._writer_thread.shutdown(wait=True)
        for conn in [*self._reader_conns, writer]:
            conn.close()
        self._reader_conns.clear()
        self._reader_threads = self._writer_thread = None

    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        """Apply pending migrations (or, with ``dry_run``, only list them)."""
        target = SQLiteMigrationTarget(self._run_writer)
        return await migrate(target, self.migrations, dry_run=dry_run)

    def _connect(self, *, writer: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        if writer and not self.memory:
            self._switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if not writer:
            conn.execute("PRAGMA query_only=ON")
        return conn

    def _switch_to_wal(self, conn: sqlite3.Connection) -> None:
        """Put the file in WAL mode, retrying within ``busy_timeout``.

        Changing the journal mode of a new file can report "database is locked" at once, without SQLite's busy
        handler, while another process creates the same file; WAL is persistent, so once set we are done.
        """
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.005
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    # -- threads -----------------------------------------------------------------------------------

    def _writer_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            raise RuntimeError("The store is not open")
        return self._writer

    async def _on_writer(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the writer thread (the caller holds the write lock, or is opening)."""
        if self._writer_thread is None:
            raise RuntimeError("The store is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer_thread, fn)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise TransientConflict("The database stayed locked by another writer") from exc
            raise

    async def _run_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(writer)`` under the write lock (for work outside a transaction: migrations)."""
        self._refuse_own_transaction()
        async with self._write_lock:
            conn = self._writer_conn()
            return await self._on_writer(partial(fn, conn))

    async def run_on_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(writer)`` on the writer thread under the write lock, outside any transaction.

        For work that manages its own transactions on the raw connection: bulk loads (:mod:`.bulk`).
        """
        return await self._run_writer(fn)

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._reader_local, "conn", None)
        if conn is None:
            conn = self._reader_local.conn = self._connect(writer=False)
            with self._reader_conns_lock:
                self._reader_conns.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on a connection that sees committed data only."""
        if self.memory:
            return await self._run_writer(fn)
        if self._reader_threads is None:
            raise RuntimeError("The store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._reader_threads, lambda: fn(self._reader()))

    def _refuse_own_transaction(self) -> None:
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            raise RuntimeError(
                "This task has a transaction open on this SQLite store; use the transaction's methods "
                "(the store's own would wait for that transaction to end)"
            )

    # -- transactions --------------------------------------------------------------------------------

    def transaction(self) -> AbstractAsyncContextManager[SQLiteTransaction]:
        """A write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[SQLiteTransaction]:
        self._refuse_own_transaction()
        async with self._write_lock:
            conn = self._writer_conn()
            self._tx_task = asyncio.current_task()
            tx = SQLiteTransaction(self, Writer(conn, self.indexer, self.clock))
            committed = False
            try:
                try:
                    yield tx
                except BaseException:
                    tx.closed = True
                    with anyio.CancelScope(shield=True):
                        await self._on_writer(conn.rollback)
                    raise
                finally:
                    self._tx_task = None
                tx.closed = True
                if tx.used:
                    with anyio.CancelScope(shield=True):
                        await self._finish(conn)
                committed = True
            finally:
                if not committed:
                    tx.undo.run()

    async def _finish(self, conn: sqlite3.Connection) -> None:
        try:
            await self._on_writer(partial(_commit, conn))
        except BaseException:
            if conn.in_transaction:
                await self._on_writer(conn.rollback)
            raise

    # -- reads ---------------------------------------------------------------------------------------

    async def read(self, resource_type: str, id: str) -> StoredResource | None:
        sql = f"SELECT {_history.COLUMNS} FROM resources WHERE res_type = ? AND res_id = ?"
        row = await self._read(lambda c: c.execute(sql, (resource_type, id)).fetchone())
        return None if row is None else stored(row)

    async def vread(self, resource_type: str, id: str, version_id: int) -> StoredResource | None:
        sql = f"SELECT {_history.COLUMNS} FROM resource_history WHERE res_type = ? AND res_id = ? AND version = ?"
        row = await self._read(lambda c: c.execute(sql, (resource_type, id, version_id)).fetchone())
        return None if row is None else stored(row)

    async def read_many(self, keys: Sequence[tuple[str, str]]) -> list[StoredResource]:
        unique = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], StoredResource] = {}
        for start in range(0, len(unique), _READ_MANY_CHUNK):
            chunk = unique[start : start + _READ_MANY_CHUNK]
            for row in await self._read(partial(_read_chunk, chunk)):
                found[(row[0], row[1])] = stored(row)
        return [found[key] for key in keys if key in found]

    async def history(self, query: HistoryQuery) -> list[StoredResource]:
        sql, params = _history.history_sql(query, "sqlite", format_instant)
        return [stored(row) for row in await self.fetch_all(sql, params)]

    async def history_count(self, query: HistoryQuery) -> int:
        sql, params = _history.history_count_sql(query, "sqlite", format_instant)
        count: int = (await self.fetch_all(sql, params))[0][0]
        return count

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        values, text = tuple(params), numbered(sql)
        return await self._read(lambda c: c.execute(text, values).fetchall())


def _in_transaction(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    # ``BEGIN IMMEDIATE`` goes with the first operation, in the same hop to the writer thread.
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    return fn()


def _commit(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("COMMIT")


def _read_chunk(keys: list[tuple[str, str]], conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    # Per type ``res_type = ? AND res_id IN (…)``: SQLite answers a row-value ``IN (VALUES …)`` by scanning
    # the whole table, but this form by primary-key lookups.
    by_type: dict[str, list[str]] = {}
    for rtype, rid in keys:
        by_type.setdefault(rtype, []).append(rid)
    rows: list[tuple[Any, ...]] = []
    for rtype, ids in by_type.items():
        marks = ", ".join("?" for _ in ids)
        sql = f"SELECT {_history.COLUMNS} FROM resources WHERE deleted = 0 AND res_type = ? AND res_id IN ({marks})"
        rows += conn.execute(sql, [rtype, *ids]).fetchall()
    return rows


class SQLiteTransaction:
    """One open write transaction on the writer connection (see :class:`~bindeled.store.base.Transaction`)."""

    def __init__(self, store: SQLiteStore, writer: Writer) -> None:
        self._store = store
        self._writer = writer
        self.closed = False
        self.used = False
        """Whether any operation ran (else there is nothing to commit)."""
        self.undo = UndoLog()

    def on_rollback(self, undo: Callable[[], None]) -> None:
        self.undo.add(undo)

    async def _run(self, fn: Callable[[], T]) -> T:
        if self.closed:
            raise RuntimeError("The transaction has ended")
        self.used = True
        return await self._store._on_writer(partial(_in_transaction, self._writer.conn, fn))

    async def read(self, resource_type: str, id: str) -> StoredResource | None:
        return await self._run(partial(self._writer.current, resource_type, id))

    async def create(self, resource_type: str, resource: dict[str, Any], id: str | None = None) -> StoredResource:
        return await self._run(partial(self._writer.create, resource_type, resource, id or new_id()))

    async def update(
        self,
        resource_type: str,
        id: str,
        resource: dict[str, Any],
        *,
        if_match: int | None = None,
        method: str = "PUT",
    ) -> tuple[StoredResource, bool]:
        return await self._run(partial(self._writer.update, resource_type, id, resource, if_match, method))

    async def delete(self, resource_type: str, id: str, *, if_match: int | None = None) -> StoredResource | None:
        return await self._run(partial(self._writer.delete, resource_type, id, if_match))

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._run(partial(self._writer.fetch_all, sql, params))

    async def fetch_each(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple[Any, ...]]]:
        """Several :meth:`fetch_all` in one hop to the writer thread: the rows of each, in order."""
        writer = self._writer
        return await self._run(lambda: [writer.fetch_all(sql, params) for sql, params in statements])
