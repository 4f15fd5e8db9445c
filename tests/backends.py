"""Database backends for tests: a SQLite file and a fresh PostgreSQL database per test session.

PostgreSQL tests talk to the real server on 127.0.0.1:5432; if it is not there they fail (CI starts
it), they never skip.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def postgres_database(prefix: str = "bindeled_test") -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def database_url_for(backend: str, folder: Path) -> Iterator[str]:
    """A database URL for ``backend`` that lives as long as the ``with`` block."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bindeled.db'}"
    else:
        with postgres_database() as url:
            yield url
