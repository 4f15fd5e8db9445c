"""Paging by cursor: the pages of a search, walked forwards or backwards, are the whole result in order,
and writes between two pages neither skip nor repeat the resources that were there all along.

Runs on both backends against the real store, with sort keys that tie and that are missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.errors import InvalidRequest
from bindeled.fhir.definitions import Definitions, load_definitions
from bindeled.fhir.search import parse_search
from bindeled.fhir.search.cursor import Cursor, decode_cursor, encode_cursor
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from bindeled.store.search import SearchIndexer, search
from tests.store.search.test_properties import _truncate, corpora

SORTS = ["family", "-family", "birthdate", "-birthdate", "gender", "_lastUpdated", "-_lastUpdated", "_id"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite:///:memory:"
    else:
        yield request.getfixturevalue("postgres_url")


async def _opened(url: str, definitions: Definitions) -> Store:
    store = open_store(url, indexer=SearchIndexer(definitions))
    await store.open()
    if store.dialect == "postgresql":
        await _truncate(store)
    return store


async def _page(
    store: Store, definitions: Definitions, sort: str, count: int, cursor: Cursor | None
) -> tuple[list[str], Cursor | None, Cursor | None]:
    params = [("_sort", sort), ("_count", str(count))]
    if cursor is not None:
        params.append(("_cursor", encode_cursor(cursor)))
    result = await search(store, parse_search("Patient", params, definitions, strict=True))
    return [r.id for r in result.resources], result.previous_cursor, result.next_cursor


async def _walks(url: str, corpus: list[dict[str, Any]], sort: str, count: int) -> None:
    definitions = load_definitions()
    store = await _opened(url, definitions)
    try:
        async with store.transaction() as tx:
            for r in corpus:
                if r["resourceType"] == "Patient":
                    await tx.update("Patient", r["id"], r)
        everything, _, _ = await _page(store, definitions, sort, 1000, None)

        forward: list[list[str]] = []
        ids, _, after = await _page(store, definitions, sort, count, None)
        forward.append(ids)
        while after is not None:
            ids, before, after = await _page(store, definitions, sort, count, after)
            assert before is not None, "a page after the first links back"
            forward.append(ids)
        assert [i for page in forward for i in page] == everything

        # Reach the last page forwards, then turn round: the same pages, in reverse.
        cursor: Cursor | None = None
        for _ in forward[:-1]:
            _, _, cursor = await _page(store, definitions, sort, count, cursor)
        ids, before, _ = await _page(store, definitions, sort, count, cursor)
        backward = [ids]
        while before is not None:
            ids, before, _ = await _page(store, definitions, sort, count, before)
            backward.append(ids)
        assert list(reversed(backward)) == forward
    finally:
        await store.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    corpus=corpora(),
    sort=st.lists(st.sampled_from(SORTS), min_size=1, max_size=3, unique=True),
    count=st.integers(1, 4),
)
def test_pages_forwards_and_backwards_are_the_whole_result(
    database_url: str, corpus: list[dict[str, Any]], sort: list[str], count: int
) -> None:
    asyncio.run(_walks(database_url, corpus, ",".join(sort), count))


async def _writes_between_pages(url: str) -> None:
    definitions = load_definitions()
    store = await _opened(url, definitions)
    try:
        async with store.transaction() as tx:
            for i in range(20):
                family = f"F{i // 3:02d}"  # ties in threes
                await tx.update(
                    "Patient", f"p{i}", {"resourceType": "Patient", "id": f"p{i}", "name": [{"family": family}]}
                )
        first, _, after = await _page(store, definitions, "family", 5, None)
        assert after is not None
        # Meanwhile: one on the first page goes, one sorting before everything comes, one after the cursor goes.
        async with store.transaction() as tx:
            await tx.delete("Patient", first[0])
            await tx.delete("Patient", "p15")
            await tx.update("Patient", "new", {"resourceType": "Patient", "id": "new", "name": [{"family": "A"}]})
        rest: list[str] = []
        while after is not None:
            ids, _, after = await _page(store, definitions, "family", 5, after)
            rest += ids
        seen = first + rest
        assert len(seen) == len(set(seen)), "no resource is shown twice"
        untouched = {f"p{i}" for i in range(20)} - {first[0], "p15"}
        assert untouched <= set(seen), "no resource that stayed is skipped"
        assert "p15" not in seen and "new" not in seen
    finally:
        await store.close()


def test_writes_between_pages_neither_skip_nor_repeat(database_url: str) -> None:
    asyncio.run(_writes_between_pages(database_url))


@pytest.mark.parametrize("token", ["", "not-base64!", encode_cursor(Cursor(("x",))) + "A", "e30"])
def test_a_token_that_is_not_ours_is_refused(token: str, definitions: Definitions) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_search("Patient", [("_cursor", token)], definitions, strict=True)
    assert caught.value.location == ("_cursor",)


def test_a_cursor_from_another_sort_is_refused(database_url: str) -> None:
    async def run() -> None:
        definitions = load_definitions()
        store = await _opened(database_url, definitions)
        try:
            params = [("_sort", "family,birthdate"), ("_cursor", encode_cursor(Cursor(("x",))))]
            with pytest.raises(InvalidRequest):
                await search(store, parse_search("Patient", params, definitions, strict=True))
        finally:
            await store.close()

    asyncio.run(run())


def test_cursor_tokens_round_trip() -> None:
    from datetime import UTC, datetime

    cursor = Cursor(("Søren", None, 1.5, datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "Patient", "p1"), True)
    assert decode_cursor(encode_cursor(cursor)) == cursor
