"""Database URLs to stores."""

from __future__ import annotations

import pytest

from bindeled.store.factory import open_store, sqlite_path
from bindeled.store.postgres import PostgresStore
from bindeled.store.sqlite import SQLiteStore


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative.db", "relative.db"),
        ("sqlite:///data/nested.db", "data/nested.db"),
        ("sqlite:////abs/path.db", "/abs/path.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:////with%20space.db", "/with space.db"),
    ],
)
def test_sqlite_urls(url: str, path: str) -> None:
    assert sqlite_path(url) == path
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    assert (store.path, store.dialect, store.memory) == (path, "sqlite", path == ":memory:")


@pytest.mark.parametrize("url", ["sqlite://relative.db", "sqlite:///", "sqlite:///x.db?mode=ro", "sqlite:relative.db"])
def test_bad_sqlite_urls(url: str) -> None:
    with pytest.raises(ValueError, match="SQLite"):
        open_store(url)


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:5432/db", "postgres://u:p@db.example/x"])
def test_postgres_urls(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    assert (store.dsn, store.dialect) == (url, "postgresql")


def test_options_reach_the_store() -> None:
    def clock() -> None:  # pragma: no cover - never called
        raise AssertionError

    store = open_store("sqlite:///:memory:", clock=clock, migrate=False)  # type: ignore[arg-type]
    assert isinstance(store, SQLiteStore)
    assert store.clock is clock
    assert not store.auto_migrate


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="scheme"):
        open_store("mysql://localhost/db")
