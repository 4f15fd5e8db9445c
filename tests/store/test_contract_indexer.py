"""The Store contract, part 4: the Indexer hook writes index rows in the write's own transaction.

The indexer here is a test double standing in for the search component's: it indexes
``code.coding[].code`` into a table this test creates.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bindeled.fhir import jsonio
from bindeled.store.base import Indexer, IndexRows, Store

pytestmark = pytest.mark.anyio

TABLE = "test_code_index"
EMPTY_TABLE = "test_empty_index"


class CodeIndexer:
    """Indexes every coding's code, with the versionId the store stamped, into :data:`TABLE`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def tables(self) -> Sequence[str]:
        return [TABLE, EMPTY_TABLE]

    def rows(self, resource_type: str, resource: jsonio.Resource) -> IndexRows:
        self.calls.append((resource_type, resource["id"]))
        codes = [c["code"] for c in resource.get("code", {}).get("coding", [])]
        version = resource["meta"]["versionId"]
        return {TABLE: (("code", "version"), [(code, version) for code in codes]), EMPTY_TABLE: (("x",), [])}


@pytest.fixture
def store_indexer() -> Indexer:
    return CodeIndexer()


@pytest.fixture
async def indexed(store: Store) -> AsyncIterator[Store]:
    async with store.transaction() as tx:
        for table in (TABLE, EMPTY_TABLE):
            await tx.fetch_all(f"DROP TABLE IF EXISTS {table}")
        await tx.fetch_all(
            f"CREATE TABLE {TABLE} (res_type TEXT NOT NULL, res_id TEXT NOT NULL, code TEXT, version TEXT)"
        )
        await tx.fetch_all(f"CREATE TABLE {EMPTY_TABLE} (res_type TEXT NOT NULL, res_id TEXT NOT NULL, x TEXT)")
    yield store
    async with store.transaction() as tx:
        for table in (TABLE, EMPTY_TABLE):
            await tx.fetch_all(f"DROP TABLE {table}")


def coded(*codes: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": c} for c in codes]},
    }


async def rows(store: Store) -> list[tuple[Any, ...]]:
    return sorted(await store.fetch_all(f"SELECT res_type, res_id, code, version FROM {TABLE}"))


async def test_create_writes_rows(indexed: Store) -> None:
    async with indexed.transaction() as tx:
        await tx.create("Observation", coded("a", "b"), id="o1")
        await tx.create("Observation", coded("c"), id="o2")
    assert await rows(indexed) == [
        ("Observation", "o1", "a", "1"),
        ("Observation", "o1", "b", "1"),
        ("Observation", "o2", "c", "1"),
    ]


async def test_update_replaces_rows(indexed: Store) -> None:
    async with indexed.transaction() as tx:
        await tx.create("Observation", coded("a", "b"), id="o1")
        await tx.create("Observation", coded("z"), id="other")
    async with indexed.transaction() as tx:
        await tx.update("Observation", "o1", coded("c"))
    assert await rows(indexed) == [("Observation", "o1", "c", "2"), ("Observation", "other", "z", "1")]


async def test_delete_removes_rows_and_update_after_delete_adds_them(indexed: Store) -> None:
    async with indexed.transaction() as tx:
        await tx.create("Observation", coded("a"), id="o1")
        await tx.create("Observation", coded("z"), id="other")
    async with indexed.transaction() as tx:
        await tx.delete("Observation", "o1")
    assert await rows(indexed) == [("Observation", "other", "z", "1")]
    async with indexed.transaction() as tx:
        await tx.update("Observation", "o1", coded("b"))
    assert await rows(indexed) == [("Observation", "o1", "b", "3"), ("Observation", "other", "z", "1")]


async def test_rows_roll_back_with_the_transaction(indexed: Store) -> None:
    async with indexed.transaction() as tx:
        await tx.create("Observation", coded("a"), id="o1")
    with pytest.raises(RuntimeError, match="boom"):
        async with indexed.transaction() as tx:
            await tx.update("Observation", "o1", coded("b"))
            await tx.create("Observation", coded("c"), id="o2")
            assert len(await tx.fetch_all(f"SELECT code FROM {TABLE}")) == 2
            raise RuntimeError("boom")
    assert await rows(indexed) == [("Observation", "o1", "a", "1")]


async def test_indexer_sees_the_stamped_resource(indexed: Store, store_indexer: CodeIndexer) -> None:
    async with indexed.transaction() as tx:
        stored = await tx.create("Observation", coded("a"))
    assert store_indexer.calls == [("Observation", stored.id)]


class BadIndexer(CodeIndexer):
    def rows(self, resource_type: str, resource: jsonio.Resource) -> IndexRows:
        return {"bad table; DROP TABLE resources": (("code",), [("x",)])}


async def test_unsafe_table_names_are_refused(indexed: Store) -> None:
    indexed.indexer = BadIndexer()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="identifier"):
        async with indexed.transaction() as tx:
            await tx.create("Observation", coded("a"), id="o1")
    assert await indexed.read("Observation", "o1") is None


async def test_several_writes_of_one_resource_in_one_transaction(indexed: Store) -> None:
    async with indexed.transaction() as tx:
        await tx.create("Observation", coded("a"), id="o1")
        await tx.update("Observation", "o1", coded("b", "c"))
        await tx.create("Observation", coded("x"), id="o2")
        await tx.delete("Observation", "o2")
        await tx.update("Observation", "o2", coded("y"))
        await tx.create("Observation", coded("gone"), id="o3")
        await tx.delete("Observation", "o3")
    assert await rows(indexed) == [
        ("Observation", "o1", "b", "2"),
        ("Observation", "o1", "c", "2"),
        ("Observation", "o2", "y", "3"),
    ]


async def test_rows_that_do_not_fit_their_table_fail_the_commit(indexed: Store) -> None:
    indexed.indexer = MisfitIndexer()  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="no_such_column"):
        async with indexed.transaction() as tx:
            await tx.create("Observation", coded("a"), id="o1")
    assert await indexed.read("Observation", "o1") is None
    assert await rows(indexed) == []


class MisfitIndexer(CodeIndexer):
    def rows(self, resource_type: str, resource: jsonio.Resource) -> IndexRows:
        return {TABLE: (("no_such_column",), [("x",)])}


async def test_a_failed_write_leaves_nothing_behind_even_when_its_error_is_caught(indexed: Store) -> None:
    indexed.indexer = MisfitIndexer()  # type: ignore[attr-defined]
    with contextlib.suppress(Exception):
        async with indexed.transaction() as tx:
            with contextlib.suppress(Exception):
                await tx.create("Observation", coded("a"), id="half")
    assert await indexed.read("Observation", "half") is None
    assert await indexed.fetch_all("SELECT count(*) FROM resource_history") == [(0,)]
