"""Choose and build the store a database URL names.

=================================  ==============================================
``sqlite:///relative/path.db``     SQLite file, relative to the working directory
``sqlite:////absolute/path.db``    SQLite file, absolute path
``sqlite:///:memory:``             SQLite in memory (gone when the store closes)
``postgresql://user@host/db``      PostgreSQL (``postgres://`` too); the rest of
                                   the URL is passed to asyncpg as its DSN
=================================  ==============================================

The store comes back unopened: ``await store.open()`` connects and applies pending migrations.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from .base import Clock, Indexer, Store, utc_now

__all__ = ["open_store", "sqlite_path"]

_SQLITE_PREFIX = "sqlite:///"


def sqlite_path(database_url: str) -> str:
    """The file path (or ``:memory:``) of a ``sqlite:///`` URL."""
    if not database_url.startswith(_SQLITE_PREFIX):
        raise ValueError("A SQLite URL looks like sqlite:///relative.db, sqlite:////abs/path.db or sqlite:///:memory:")
    parts = urlsplit(database_url)
    if parts.query or parts.fragment:
        raise ValueError("SQLite URLs take no query or fragment")
    path = unquote(database_url[len(_SQLITE_PREFIX) :])
    if not path:
        raise ValueError("The SQLite URL names no file")
    return path


def open_store(
    database_url: str, *, indexer: Indexer | None = None, clock: Clock = utc_now, migrate: bool = True
) -> Store:
    """The store for ``database_url``, not yet opened.

    ``indexer`` writes search-index rows with every version; ``clock`` stamps ``meta.lastUpdated``;
    ``migrate=False`` leaves pending migrations for an explicit (possibly dry) run.
    """
    scheme = database_url.partition(":")[0].lower()
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(database_url), indexer=indexer, clock=clock, auto_migrate=migrate)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresStore

        return PostgresStore(database_url, indexer=indexer, clock=clock, auto_migrate=migrate)
    raise ValueError(f"Unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")
