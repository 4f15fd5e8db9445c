"""The SQLite write path: what one transaction operation does on the writer connection.

Everything here is synchronous and runs on the store's single writer thread, inside the
``BEGIN IMMEDIATE`` transaction the store opened; one operation is one hop to that thread. Holding
SQLite's write lock for the whole transaction is what makes reading the current version and writing
the next one safe: no other writer (in this process or another) can come between them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ..fhir import jsonio
from . import _history
from ._indexrows import delete_sql, insert_batches
from ._records import (
    check_if_match,
    check_method,
    check_type,
    conflict_exists,
    format_instant,
    now_utc,
    parse_instant,
    stamp,
)
from .base import Clock, Indexer, StoredResource

__all__ = ["Writer", "numbered", "stored"]

_SELECT_CURRENT = f"SELECT {_history.COLUMNS} FROM resources WHERE res_type = ? AND res_id = ?"
_INSERT_CURRENT = (
    "INSERT INTO resources (res_type, res_id, version, last_updated, deleted, method, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_CURRENT = (
    "UPDATE resources SET version = ?, last_updated = ?, deleted = ?, method = ?, body = ?"
    " WHERE res_type = ? AND res_id = ?"
)
_INSERT_HISTORY = (
    "INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, method, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def stored(row: Sequence[Any]) -> StoredResource:
    """A row of :data:`_history.COLUMNS` as a :class:`StoredResource`."""
    return StoredResource(row[0], row[1], row[2], parse_instant(row[3]), bool(row[4]), row[5], bytes(row[6]))


_DOLLAR = re.compile(r"(?<![\w$])\$(\d+)\b")


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """SQL written for PostgreSQL's ``$1, $2`` placeholders, for SQLite.

    sqlite3 reads ``$1`` as a *named* parameter and binds a sequence in order of first appearance,
    so ``… $2 … $1`` would silently swap values; ``?1``/``?2`` bind by number, as PostgreSQL does.
    """
    return _DOLLAR.sub(r"?\1", sql) if "$" in sql else sql


class Writer:
    """Creates, updates and deletes on one connection that is inside a write transaction."""

    def __init__(self, conn: sqlite3.Connection, indexer: Indexer | None, clock: Clock) -> None:
        self.conn = conn
        self.indexer = indexer
        self.clock = clock

    def current(self, resource_type: str, id: str) -> StoredResource | None:
        row = self.conn.execute(_SELECT_CURRENT, (resource_type, id)).fetchone()
        return None if row is None else stored(row)

    def create(self, resource_type: str, resource: jsonio.Resource, id: str) -> StoredResource:
        check_type(resource_type, resource)
        if self.current(resource_type, id) is not None:
            raise conflict_exists(resource_type)
        return self._write(resource_type, id, 1, resource, "POST", previous=None)

    def update(
        self, resource_type: str, id: str, resource: jsonio.Resource, if_match: int | None, method: str
    ) -> tuple[StoredResource, bool]:
        check_type(resource_type, resource)
        check_method(method)
        previous = self.current(resource_type, id)
        check_if_match(resource_type, None if previous is None else previous.version_id, if_match)
        version = 1 if previous is None else previous.version_id + 1
        created = previous is None or previous.deleted
        return self._write(resource_type, id, version, resource, method, previous), created

    def delete(self, resource_type: str, id: str, if_match: int | None) -> StoredResource | None:
        previous = self.current(resource_type, id)
        if previous is None or previous.deleted:
            return None
        check_if_match(resource_type, previous.version_id, if_match)
        return self._write(resource_type, id, previous.version_id + 1, None, "DELETE", previous)

    def fetch_all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(numbered(sql), tuple(params)).fetchall()

    def _write(
        self,
        resource_type: str,
        id: str,
        version: int,
        resource: jsonio.Resource | None,
        method: str,
        previous: StoredResource | None,
    ) -> StoredResource:
        """Write version ``version`` (a tombstone when ``resource`` is None) and its index rows."""
        moment = now_utc(self.clock)
        stamped, body = (None, b"") if resource is None else stamp(resource_type, id, version, moment, resource)
        deleted = stamped is None
        instant = format_instant(moment)
        with self._savepoint():
            if previous is None:
                self.conn.execute(_INSERT_CURRENT, (resource_type, id, version, instant, deleted, method, body))
            else:
                self.conn.execute(_UPDATE_CURRENT, (version, instant, deleted, method, body, resource_type, id))
            self.conn.execute(_INSERT_HISTORY, (resource_type, id, version, instant, deleted, method, body))
            self._reindex(resource_type, id, stamped, had_rows=previous is not None and not previous.deleted)
        return StoredResource(resource_type, id, version, moment, deleted, method, body)

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        """Make one operation all-or-nothing, so a caller that catches its error can still commit the rest."""
        self.conn.execute("SAVEPOINT bindeled_write")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO bindeled_write")
            raise
        finally:
            self.conn.execute("RELEASE bindeled_write")

    def _reindex(self, resource_type: str, id: str, resource: jsonio.Resource | None, *, had_rows: bool) -> None:
        # Index rows exist only for current, non-deleted versions, so a resource that had none
        # (new, or deleted before) needs no delete: that keeps bulk creates to the inserts alone.
        if self.indexer is None:
            return
        if had_rows:
            for table in self.indexer.tables():
                self.conn.execute(delete_sql(table, "sqlite"), (resource_type, id))
        if resource is not None:
            for sql, rows in insert_batches(self.indexer.rows(resource_type, resource), resource_type, id, "sqlite"):
                self.conn.executemany(sql, rows)
