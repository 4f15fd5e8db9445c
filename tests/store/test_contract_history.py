"""The Store contract, part 2: history of a resource, a type and the system — on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bindeled.store.base import HistoryQuery, Store

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def patient(n: int) -> dict[str, Any]:
    return {"resourceType": "Patient", "active": True, "birthDate": f"19{n:02d}-01-01"}


@pytest.fixture
async def timeline(store: Store, clock: FakeClock) -> Store:
    """Patient/a: v1 at 0, v2 at 20. Patient/b: v1 at 10, deleted (v2) at 30. Observation/o: v1 at 40."""
    writes = [
        (0, "update", "Patient", "a"),
        (10, "update", "Patient", "b"),
        (20, "update", "Patient", "a"),
        (30, "delete", "Patient", "b"),
        (40, "update", "Observation", "o"),
    ]
    for minute, action, resource_type, id in writes:
        clock.set(at(minute), tick=timedelta(0))
        async with store.transaction() as tx:
            if action == "delete":
                await tx.delete(resource_type, id)
            elif resource_type == "Patient":
                await tx.update(resource_type, id, patient(minute))
            else:
                await tx.update(resource_type, id, {"resourceType": "Observation", "status": "final"})
    return store


def keys(versions: list[Any]) -> list[tuple[str, int]]:
    return [(v.id, v.version_id) for v in versions]


async def test_system_history_newest_first(timeline: Store) -> None:
    versions = await timeline.history(HistoryQuery())
    assert keys(versions) == [("o", 1), ("b", 2), ("a", 2), ("b", 1), ("a", 1)]
    assert [v.last_updated for v in versions] == [at(40), at(30), at(20), at(10), at(0)]
    tombstone = versions[1]
    assert (tombstone.deleted, tombstone.body, tombstone.method) == (True, b"", "DELETE")
    assert await timeline.history_count(HistoryQuery()) == 5


async def test_type_and_instance_history(timeline: Store) -> None:
    assert keys(await timeline.history(HistoryQuery("Patient"))) == [("b", 2), ("a", 2), ("b", 1), ("a", 1)]
    assert keys(await timeline.history(HistoryQuery("Patient", "a"))) == [("a", 2), ("a", 1)]
    assert await timeline.history(HistoryQuery("Patient", "zzz")) == []
    assert await timeline.history_count(HistoryQuery("Patient")) == 4
    assert await timeline.history_count(HistoryQuery("Observation", "o")) == 1


async def test_history_bodies_are_the_stored_versions(timeline: Store) -> None:
    versions = await timeline.history(HistoryQuery("Patient", "a"))
    assert versions[0].resource()["birthDate"] == "1920-01-01"
    assert versions[1].resource()["birthDate"] == "1900-01-01"
    assert versions[1] == await timeline.vread("Patient", "a", 1)


async def test_since_is_inclusive(timeline: Store) -> None:
    assert keys(await timeline.history(HistoryQuery(since=at(20)))) == [("o", 1), ("b", 2), ("a", 2)]
    assert keys(await timeline.history(HistoryQuery("Patient", since=at(20.001)))) == [("b", 2)]
    assert await timeline.history_count(HistoryQuery(since=at(20))) == 3


async def test_until_is_inclusive_and_fixes_the_result_set(timeline: Store, clock: FakeClock) -> None:
    query = HistoryQuery(until=at(20))
    before = await timeline.history(query)
    assert keys(before) == [("a", 2), ("b", 1), ("a", 1)]
    clock.set(at(50))
    async with timeline.transaction() as tx:
        await tx.update("Patient", "a", patient(50))
    assert await timeline.history(query) == before
    assert await timeline.history_count(query) == 3


async def test_at_gives_the_version_current_at_that_instant(timeline: Store) -> None:
    assert keys(await timeline.history(HistoryQuery(at=at(-1)))) == []
    assert keys(await timeline.history(HistoryQuery(at=at(15)))) == [("b", 1), ("a", 1)]
    assert keys(await timeline.history(HistoryQuery(at=at(20)))) == [("a", 2), ("b", 1)]
    assert keys(await timeline.history(HistoryQuery(at=at(35)))) == [("b", 2), ("a", 2)]
    assert keys(await timeline.history(HistoryQuery("Patient", "b", at=at(35)))) == [("b", 2)]
    assert keys(await timeline.history(HistoryQuery(at=at(99)))) == [("o", 1), ("b", 2), ("a", 2)]
    assert await timeline.history_count(HistoryQuery(at=at(15))) == 2


async def test_filters_combine(timeline: Store) -> None:
    query = HistoryQuery("Patient", since=at(10), until=at(25))
    assert keys(await timeline.history(query)) == [("a", 2), ("b", 1)]
    assert await timeline.history_count(query) == 2


async def test_paging_with_count_and_offset(timeline: Store) -> None:
    pages = [await timeline.history(HistoryQuery(count=2, offset=offset)) for offset in (0, 2, 4, 6)]
    assert [keys(p) for p in pages] == [[("o", 1), ("b", 2)], [("a", 2), ("b", 1)], [("a", 1)], []]
    assert await timeline.history_count(HistoryQuery(count=1, offset=3)) == 5
    assert await timeline.history(HistoryQuery(count=0)) == []


async def test_versions_written_in_one_instant_keep_their_write_order(store: Store, clock: FakeClock) -> None:
    clock.set(T0, tick=timedelta(0))
    async with store.transaction() as tx:
        for i in range(5):
            await tx.update("Patient", f"p{i}", patient(i))
    assert [v.id for v in await store.history(HistoryQuery("Patient"))] == ["p4", "p3", "p2", "p1", "p0"]


async def test_bad_queries_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="type"):
        await store.history(HistoryQuery(id="x"))
    with pytest.raises(ValueError, match="negative"):
        await store.history(HistoryQuery(count=-1))
    with pytest.raises(ValueError, match="timezone"):
        await store.history(HistoryQuery(since=datetime(2026, 1, 1)))
