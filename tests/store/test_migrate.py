"""The migration runner: shipped files, checksums, idempotence, dry runs, concurrent start-up."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest

from bindeled.store._sqlite_migrate import split_statements
from bindeled.store.base import Store
from bindeled.store.migrate import Migration, MigrationError, load_migrations, pending_for_url
from bindeled.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from conftest import StoreBackend

pytestmark = pytest.mark.anyio


def placeholder(store: Store, n: int) -> str:
    return "?" if store.dialect == "sqlite" else f"${n}"


# -- the shipped files -------------------------------------------------------------------------------


def test_both_dialects_ship_the_same_numbered_files() -> None:
    sqlite, postgres = load_migrations("sqlite"), load_migrations("postgresql")
    assert [m.name for m in sqlite] == [m.name for m in postgres]
    assert sqlite[0].name == "0001_init.sql"
    assert [m.version for m in sqlite] == sorted(m.version for m in sqlite)
    assert all(m.transactional for m in sqlite)


def test_files_load_in_number_order(tmp_path: Path) -> None:
    for name in ("0010_later.sql", "0002_second.sql", "0001_first.sql", "README.md"):
        (tmp_path / name).write_text("SELECT 1;")
    assert [m.version for m in load_migrations("sqlite", tmp_path)] == [1, 2, 10]


@pytest.mark.parametrize(
    ("names", "message"),
    [(["1_short.sql"], "NNNN_name"), (["0001_Upper.sql"], "NNNN_name"), (["0001_a.sql", "0001_b.sql"], "share")],
)
def test_malformed_folders_are_refused(tmp_path: Path, names: list[str], message: str) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=message):
        load_migrations("sqlite", tmp_path)


def test_checksum_ignores_line_endings_only() -> None:
    unix = Migration(1, "0001_a.sql", "CREATE TABLE a (x INT);\n")
    assert unix.checksum == Migration(1, "0001_a.sql", "CREATE TABLE a (x INT);\r\n").checksum
    assert unix.checksum != Migration(1, "0001_a.sql", "CREATE TABLE a (y INT);\n").checksum


def test_no_transaction_marker() -> None:
    assert not Migration(
        1, "0001_a.sql", "-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);"
    ).transactional


def test_sqlite_statement_splitting() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 'c;d'; END;
    /* done */
    """
    statements = list(split_statements(script))
    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'a;b');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        list(split_statements("CREATE TABLE t (x TEXT DEFAULT 'unterminated);"))


# -- against the backends ----------------------------------------------------------------------------


async def recorded(store: Store) -> list[tuple[int, str]]:
    rows = await store.fetch_all("SELECT version, checksum FROM schema_migrations ORDER BY version")
    return [(int(v), str(c)) for v, c in rows]


async def test_open_applies_every_shipped_migration(store: Store) -> None:
    shipped = load_migrations(store.dialect)
    assert await recorded(store) == [(m.version, m.checksum) for m in shipped]
    assert await store.migrate(dry_run=True) == []
    assert await store.migrate() == []


async def test_reopen_is_idempotent(shared_store: Store, shared_store_backend: StoreBackend) -> None:
    before = await recorded(shared_store)
    again = shared_store_backend.make()
    await again.open()
    try:
        assert await recorded(again) == before
        assert await again.fetch_all("SELECT count(*) FROM schema_migrations") == [(len(before),)]
    finally:
        await again.close()


async def test_changed_applied_file_is_an_error(store: Store) -> None:
    sql = f"UPDATE schema_migrations SET checksum = {placeholder(store, 1)} WHERE version = 1"
    original = dict(await recorded(store))[1]
    async with store.transaction() as tx:
        await tx.fetch_all(sql, ["0" * 64])
    try:
        with pytest.raises(MigrationError, match=r"0001_init\.sql"):
            await store.migrate(dry_run=True)
        with pytest.raises(MigrationError, match="checksum"):
            await store.migrate()
    finally:
        async with store.transaction() as tx:
            await tx.fetch_all(sql, [original])


async def test_unknown_applied_migration_is_an_error(store: Store) -> None:
    p = [placeholder(store, i) for i in (1, 2, 3)]
    sql = f"INSERT INTO schema_migrations (version, name, checksum) VALUES ({p[0]}, {p[1]}, {p[2]})"
    async with store.transaction() as tx:
        await tx.fetch_all(sql, [9999, "9999_future.sql", "x"])
    try:
        with pytest.raises(MigrationError, match=r"9999_future\.sql"):
            await store.migrate()
    finally:
        async with store.transaction() as tx:
            await tx.fetch_all(f"DELETE FROM schema_migrations WHERE version = {p[0]}", [9999])


async def test_sqlite_dry_run_lists_pending_without_applying(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "dry.db"), auto_migrate=False)
    await store.open()
    try:
        pending = await store.migrate(dry_run=True)
        assert [m.name for m in pending] == [m.name for m in load_migrations("sqlite")]
        assert await store.fetch_all("SELECT name FROM sqlite_master WHERE name = 'resources'") == []
        assert [m.name for m in await store.migrate()] == [m.name for m in pending]
        assert await store.migrate(dry_run=True) == []
    finally:
        await store.close()


def custom(*sql: str) -> list[Migration]:
    return [Migration(i, f"{i:04d}_step.sql", text) for i, text in enumerate(sql, start=1)]


async def test_sqlite_custom_migrations_run_in_order_and_fail_atomically(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    first = SQLiteStore(
        path, migrations=custom("CREATE TABLE a (x INT);", "INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);")
    )
    await first.open()
    await first.close()
    broken = custom(
        "CREATE TABLE a (x INT);",
        "INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);",
        "INSERT INTO a VALUES (3); INSERT INTO missing VALUES (4);",
    )
    store = SQLiteStore(path, migrations=broken)
    with pytest.raises(Exception, match="missing"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):  # a failed open leaves nothing behind
        await store.read("Patient", "x")
    store = SQLiteStore(path, migrations=broken[:2], auto_migrate=False)
    await store.open()
    try:
        assert await store.fetch_all("SELECT x FROM a ORDER BY x") == [(1,), (2,)]
        assert await store.fetch_all("SELECT version FROM schema_migrations") == [(1,), (2,)]
    finally:
        await store.close()


async def test_sqlite_no_transaction_migration(tmp_path: Path) -> None:
    store = SQLiteStore(
        str(tmp_path / "n.db"), migrations=custom("-- migrate: no-transaction\nCREATE TABLE n (x INT); VACUUM;")
    )
    await store.open()
    try:
        assert await store.fetch_all("SELECT version FROM schema_migrations") == [(1,)]
    finally:
        await store.close()


async def test_two_stores_starting_at_once_on_a_new_sqlite_file(tmp_path: Path) -> None:
    url_path = str(tmp_path / f"race-{secrets.token_hex(2)}.db")
    stores = [SQLiteStore(url_path), SQLiteStore(url_path)]
    async with anyio.create_task_group() as tg:
        for s in stores:
            tg.start_soon(s.open)
    try:
        expected = [(m.version,) for m in load_migrations("sqlite")]
        assert await stores[0].fetch_all("SELECT version FROM schema_migrations ORDER BY version") == expected
    finally:
        for s in stores:
            await s.close()


async def test_pending_for_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert await pending_for_url(url) == [m.name for m in load_migrations("sqlite")]
    store = SQLiteStore(str(tmp_path / "cli.db"))
    await store.open()
    await store.close()
    assert await pending_for_url(url) == []
