"""A tiny migration runner: numbered ``.sql`` files per dialect, checksummed, applied once, in order.

The files ship as package data under ``store/migrations/<sqlite|postgres>/`` and are named
``NNNN_what.sql``; they run in number order. Each applied file is recorded in ``schema_migrations``
with a SHA-256 checksum of its text (line endings normalised). A recorded file whose text has since
changed, or a recorded number this code does not know, stops start-up with a :class:`MigrationError`:
a schema that differs from what the code expects is not something to run on.

Each file runs in its own transaction together with its ``schema_migrations`` row, unless its first
line is ``-- migrate: no-transaction`` (for statements PostgreSQL refuses inside a transaction, such
as ``CREATE INDEX CONCURRENTLY``). Two processes starting at once are safe: PostgreSQL takes an
advisory lock for the whole run; SQLite applies each file under ``BEGIN IMMEDIATE`` and re-checks
``schema_migrations`` inside it, so a file applied meanwhile by the other process is skipped.

The backends provide a :class:`MigrationTarget`; :func:`migrate` is the whole algorithm. A dry run
(``dry_run=True``, or :func:`pending_for_url`) checks the recorded checksums and returns the pending
files without running them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Protocol

from ..errors import BindeledError
from .base import Dialect

__all__ = [
    "NO_TRANSACTION",
    "AppliedMigration",
    "Migration",
    "MigrationError",
    "MigrationTarget",
    "check_applied",
    "check_checksum",
    "load_migrations",
    "migrate",
    "pending",
    "pending_for_url",
]

NO_TRANSACTION = "-- migrate: no-transaction"
"""First line of a file that must run outside a transaction."""

_FILE_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql\Z")
_FOLDERS: dict[Dialect, str] = {"sqlite": "sqlite", "postgresql": "postgres"}


class MigrationError(BindeledError):
    """The database schema and the shipped migrations disagree, or a migration file is malformed."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One shipped migration file."""

    version: int
    name: str
    """The file name, e.g. ``0001_init.sql``."""
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the text with line endings normalised, so a CRLF checkout is not a change."""
        return hashlib.sha256(self.sql.replace("\r\n", "\n").encode()).hexdigest()

    @property
    def transactional(self) -> bool:
        return not self.sql.lstrip().startswith(NO_TRANSACTION)


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """One row of ``schema_migrations``."""

    version: int
    name: str
    checksum: str


class MigrationTarget(Protocol):
    """What a backend offers the runner."""

    def locked(self) -> AbstractAsyncContextManager[None]:
        """Exclude other processes' runners for the duration (where the backend needs it)."""
        ...

    async def applied(self) -> list[AppliedMigration]:
        """The recorded migrations; creates ``schema_migrations`` when missing."""
        ...

    async def apply(self, migration: Migration) -> bool:
        """Run one file and record it atomically; False when it was recorded meanwhile (not run again).

        A recorded file found here with another checksum raises :class:`MigrationError`.
        """
        ...


def load_migrations(dialect: Dialect, source: Traversable | None = None) -> list[Migration]:
    """The migration files for ``dialect``, in order. ``source`` replaces the packaged folder (for tests)."""
    folder = source if source is not None else resources.files(__package__) / "migrations" / _FOLDERS[dialect]
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"Migration file {entry.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"Migrations {found[version].name!r} and {entry.name!r} share a number")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def check_applied(migrations: Sequence[Migration], applied: Sequence[AppliedMigration]) -> None:
    """Raise :class:`MigrationError` when a recorded migration is unknown or its file has changed."""
    known = {m.version: m for m in migrations}
    for row in applied:
        shipped = known.get(row.version)
        if shipped is None:
            raise MigrationError(
                f"The database has migration {row.name!r}, which this version of bindeled does not ship"
            )
        check_checksum(shipped, row.checksum)


def check_checksum(migration: Migration, recorded: str) -> None:
    if migration.checksum != recorded:
        raise MigrationError(
            f"Migration {migration.name!r} was changed after it was applied (checksum mismatch); "
            "add a new migration instead of editing an applied one"
        )


def pending(migrations: Sequence[Migration], applied: Sequence[AppliedMigration]) -> list[Migration]:
    """The shipped migrations not yet recorded, in order."""
    done = {row.version for row in applied}
    return [m for m in migrations if m.version not in done]


async def migrate(
    target: MigrationTarget, migrations: Sequence[Migration], *, dry_run: bool = False
) -> list[Migration]:
    """Apply the pending migrations in order; return them (a dry run only returns them)."""
    async with target.locked():
        applied = await target.applied()
        check_applied(migrations, applied)
        todo = pending(migrations, applied)
        if dry_run:
            return todo
        return [m for m in todo if await target.apply(m)]


async def pending_for_url(database_url: str) -> list[str]:
    """The names of the migrations a store at ``database_url`` has yet to apply (nothing is changed)."""
    from .factory import open_store

    store = open_store(database_url, migrate=False)
    await store.open()
    try:
        return [m.name for m in await store.migrate(dry_run=True)]
    finally:
        await store.close()
