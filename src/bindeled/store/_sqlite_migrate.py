"""Running migrations on SQLite: each file under ``BEGIN IMMEDIATE``, re-checked inside the lock.

``sqlite3``'s ``executescript`` commits any open transaction first, so a file is split into its
statements (with :func:`sqlite3.complete_statement`, which understands quotes, comments and trigger
bodies) and each runs with ``execute`` inside the migration's own transaction.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from .migrate import AppliedMigration, Migration, check_checksum

__all__ = ["SQLiteMigrationTarget", "split_statements"]

T = TypeVar("T")


class RunWriter(Protocol):
    """Runs a function on the writer connection, under the store's write lock."""

    def __call__(self, fn: Callable[[sqlite3.Connection], T], /) -> Awaitable[T]: ...


_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""


def split_statements(script: str) -> Iterator[str]:
    """The complete SQL statements of ``script``, in order (comments-only tails are dropped)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_sql(pending):
                yield pending.strip()
            pending = ""
    if _has_sql(pending.removesuffix(";")):
        raise ValueError("The script ends with an incomplete statement")


def _has_sql(text: str) -> bool:
    """Whether anything but comments, blanks and semicolons is left (comment-only pieces are dropped)."""
    text = _BLOCK_COMMENT.sub(" ", text)
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return any(line.replace(";", "").strip() for line in lines)


class SQLiteMigrationTarget:
    """:class:`~bindeled.store.migrate.MigrationTarget` on the store's writer connection."""

    def __init__(self, run_writer: RunWriter) -> None:
        self._run_writer = run_writer

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        # No run-long lock: each file takes SQLite's write lock and re-checks schema_migrations.
        yield

    async def applied(self) -> list[AppliedMigration]:
        rows = await self._run_writer(_read_applied)
        return [AppliedMigration(int(v), str(n), str(c)) for v, n, c in rows]

    async def apply(self, migration: Migration) -> bool:
        return await self._run_writer(lambda conn: _apply(conn, migration))


def _read_applied(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    conn.execute(_CREATE_TABLE)
    return conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version").fetchall()


def _apply(conn: sqlite3.Connection, migration: Migration) -> bool:
    transactional = migration.transactional
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT checksum FROM schema_migrations WHERE version = ?", (migration.version,)).fetchone()
        if row is not None:
            check_checksum(migration, row[0])
            conn.execute("ROLLBACK")
            return False
        if not transactional:
            conn.execute("COMMIT")
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        if not transactional:
            conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
            (migration.version, migration.name, migration.checksum),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True
