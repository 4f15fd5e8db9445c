"""Running migrations on PostgreSQL: one connection, a session advisory lock for the whole run.

The lock makes a second process that starts at the same moment wait, then find nothing pending.
Creating ``schema_migrations`` happens under the lock too: two concurrent ``CREATE TABLE IF NOT
EXISTS`` can otherwise collide in the catalogue. A transactional file runs with its
``schema_migrations`` row in one transaction; a ``-- migrate: no-transaction`` file is sent as one
simple query, so it must hold a single statement (PostgreSQL wraps several in one implicit transaction).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .migrate import AppliedMigration, Migration, check_checksum

__all__ = ["LOCK_KEY", "PostgresMigrationTarget"]

LOCK_KEY = int.from_bytes(b"bindeled", "big")
"""The advisory lock id that migration runs share ("bindeled" as a 64-bit number)."""

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
_RECORD = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"


class PostgresMigrationTarget:
    """:class:`~bindeled.store.migrate.MigrationTarget` on one asyncpg connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        await self._conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            yield
        finally:
            await self._conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

    async def applied(self) -> list[AppliedMigration]:
        await self._conn.execute(_CREATE_TABLE)
        rows = await self._conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        return [AppliedMigration(r["version"], r["name"], r["checksum"]) for r in rows]

    async def apply(self, migration: Migration) -> bool:
        if not migration.transactional:
            if await self._recorded(migration):
                return False
            await self._conn.execute(migration.sql)
            await self._conn.execute(_RECORD, migration.version, migration.name, migration.checksum)
            return True
        async with self._conn.transaction():
            if await self._recorded(migration):
                return False
            await self._conn.execute(migration.sql)
            await self._conn.execute(_RECORD, migration.version, migration.name, migration.checksum)
        return True

    async def _recorded(self, migration: Migration) -> bool:
        checksum = await self._conn.fetchval(
            "SELECT checksum FROM schema_migrations WHERE version = $1", migration.version
        )
        if checksum is None:
            return False
        check_checksum(migration, checksum)
        return True
