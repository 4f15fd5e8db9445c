"""The Store contract, part 1: create, read, update, delete and their bodies — on every backend."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from bindeled.errors import Conflict, InvalidRequest, PreconditionFailed
from bindeled.fhir import jsonio
from bindeled.store.base import Store, StoredResource

if TYPE_CHECKING:
    from conftest import FakeClock, StoreBackend

pytestmark = pytest.mark.anyio


def observation(value: str = "1.50", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "glucose"},
        "valueQuantity": {"value": Decimal(value), "unit": "mmol/L"},
        **extra,
    }


async def create(store: Store, resource: dict[str, Any], id: str | None = None) -> StoredResource:
    async with store.transaction() as tx:
        return await tx.create(resource["resourceType"], resource, id=id)


async def update(store: Store, id: str, resource: dict[str, Any], **kwargs: Any) -> tuple[StoredResource, bool]:
    async with store.transaction() as tx:
        return await tx.update(resource["resourceType"], id, resource, **kwargs)


async def delete(store: Store, resource_type: str, id: str, **kwargs: Any) -> StoredResource | None:
    async with store.transaction() as tx:
        return await tx.delete(resource_type, id, **kwargs)


# -- create ------------------------------------------------------------------------------------------


async def test_create_assigns_uuid_and_stamps_meta(store: Store, clock: FakeClock) -> None:
    moment = datetime(2026, 11, 22, 3, 24, 0, 123456, tzinfo=UTC)
    clock.set(moment)
    stored = await create(store, observation())

    assert uuid.UUID(stored.id).version == 4
    assert (stored.resource_type, stored.version_id, stored.deleted, stored.method) == ("Observation", 1, False, "POST")
    assert stored.last_updated == moment
    body = stored.resource()
    assert body["id"] == stored.id
    assert body["meta"] == {"versionId": "1", "lastUpdated": "2026-11-22T03:24:00.123456+00:00"}
    assert list(body)[:3] == ["resourceType", "id", "meta"]
    assert stored.etag == 'W/"1"'


async def test_body_is_returned_exactly_as_stored(store: Store) -> None:
    stored = await create(store, observation("1.50", component=[{"valueQuantity": {"value": Decimal("0.000100")}}]))
    assert b'"value":1.50' in stored.body
    assert b'"value":0.000100' in stored.body
    read = await store.read("Observation", stored.id)
    assert read is not None
    assert read.body == stored.body
    assert read.resource()["valueQuantity"]["value"].as_tuple() == Decimal("1.50").as_tuple()


async def test_callers_dict_is_not_modified(store: Store) -> None:
    resource = observation(meta={"profile": ["http://example.org/p"], "versionId": "99"}, id="ignored")
    before = copy.deepcopy(resource)
    stored = await create(store, resource, id="given-id")
    assert resource == before
    body = stored.resource()
    assert body["id"] == "given-id"
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["profile"] == ["http://example.org/p"]


async def test_create_with_existing_id_conflicts(store: Store) -> None:
    await create(store, observation(), id="dup")
    with pytest.raises(Conflict):
        await create(store, observation(), id="dup")
    await delete(store, "Observation", "dup")
    with pytest.raises(Conflict):
        await create(store, observation(), id="dup")
    assert (await store.read("Observation", "dup")).version_id == 2  # type: ignore[union-attr]


async def test_same_id_in_another_type_is_another_resource(store: Store) -> None:
    await create(store, observation(), id="x")
    patient = await create(store, {"resourceType": "Patient", "active": True}, id="x")
    assert patient.version_id == 1


async def test_body_of_another_type_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(InvalidRequest):
            await tx.create("Patient", observation())
    assert await store.fetch_all("SELECT count(*) FROM resources") == [(0,)]


# -- read / vread / read_many ------------------------------------------------------------------------


async def test_read_missing_is_none(store: Store) -> None:
    assert await store.read("Observation", "nope") is None
    assert await store.vread("Observation", "nope", 1) is None


async def test_vread_every_version(store: Store) -> None:
    first = await create(store, observation("1.0"))
    second, _ = await update(store, first.id, observation("2.0"))
    assert await store.vread("Observation", first.id, 1) == first
    assert await store.vread("Observation", first.id, 2) == second
    assert await store.vread("Observation", first.id, 3) is None


async def test_read_many_keeps_key_order_and_skips_deleted_and_missing(store: Store) -> None:
    a = await create(store, observation(), id="a")
    b = await create(store, {"resourceType": "Patient", "active": True}, id="b")
    await create(store, observation(), id="gone")
    await delete(store, "Observation", "gone")
    keys = [("Patient", "b"), ("Observation", "missing"), ("Observation", "gone"), ("Observation", "a")]
    assert await store.read_many(keys) == [b, a]
    assert await store.read_many([("Observation", "a"), ("Observation", "a")]) == [a, a]
    assert await store.read_many([]) == []


async def test_read_many_with_many_keys(store: Store) -> None:
    async with store.transaction() as tx:
        for i in range(450):
            await tx.create("Patient", {"resourceType": "Patient", "active": True}, id=f"p{i}")
    keys = [("Patient", f"p{i}") for i in reversed(range(450))]
    assert [r.id for r in await store.read_many(keys)] == [k[1] for k in keys]


# -- update ------------------------------------------------------------------------------------------


async def test_update_of_absent_resource_creates_version_1(store: Store) -> None:
    stored, created = await update(store, "new", observation())
    assert created
    assert (stored.id, stored.version_id, stored.method) == ("new", 1, "PUT")
    assert stored.resource()["id"] == "new"


async def test_update_makes_the_next_version(store: Store, clock: FakeClock) -> None:
    first = await create(store, observation("1.0"))
    clock.set(datetime(2027, 5, 1, tzinfo=UTC))
    second, created = await update(store, first.id, observation("2.0"), method="PATCH")
    assert not created
    assert (second.version_id, second.method, second.last_updated) == (2, "PATCH", datetime(2027, 5, 1, tzinfo=UTC))
    assert second.resource()["meta"]["versionId"] == "2"
    assert await store.read("Observation", first.id) == second


async def test_update_if_match(store: Store) -> None:
    first = await create(store, observation())
    with pytest.raises(PreconditionFailed):
        await update(store, first.id, observation(), if_match=2)
    stored, _ = await update(store, first.id, observation(), if_match=1)
    assert stored.version_id == 2
    with pytest.raises(PreconditionFailed):
        await update(store, "absent", observation(), if_match=1)
    assert await store.read("Observation", "absent") is None


async def test_update_of_deleted_resource_continues_the_versions(store: Store) -> None:
    first = await create(store, observation())
    await delete(store, "Observation", first.id)
    stored, created = await update(store, first.id, observation())
    assert created
    assert stored.version_id == 3
    assert not stored.deleted


async def test_unknown_method_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match="method"):
            await tx.update("Observation", "x", observation(), method="GET")


# -- delete ------------------------------------------------------------------------------------------


async def test_delete_writes_a_tombstone(store: Store, clock: FakeClock) -> None:
    first = await create(store, observation())
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    tombstone = await delete(store, "Observation", first.id)
    assert tombstone is not None
    assert (tombstone.version_id, tombstone.deleted, tombstone.method, tombstone.body) == (2, True, "DELETE", b"")
    assert tombstone.last_updated == datetime(2027, 1, 1, tzinfo=UTC)
    assert await store.read("Observation", first.id) == tombstone
    assert await store.vread("Observation", first.id, 2) == tombstone
    assert await store.vread("Observation", first.id, 1) == first


async def test_delete_of_nothing_current_returns_none(store: Store) -> None:
    assert await delete(store, "Observation", "never") is None
    first = await create(store, observation())
    await delete(store, "Observation", first.id)
    assert await delete(store, "Observation", first.id) is None
    assert (await store.read("Observation", first.id)).version_id == 2  # type: ignore[union-attr]


async def test_delete_if_match(store: Store) -> None:
    first = await create(store, observation())
    with pytest.raises(PreconditionFailed):
        await delete(store, "Observation", first.id, if_match=7)
    assert (await store.read("Observation", first.id)) == first
    assert (await delete(store, "Observation", first.id, if_match=1)) is not None


# -- transactions ------------------------------------------------------------------------------------


async def test_exception_rolls_back_everything(store: Store) -> None:
    kept = await create(store, observation(), id="kept")
    with pytest.raises(ZeroDivisionError):
        async with store.transaction() as tx:
            await tx.create("Observation", observation(), id="new")
            await tx.update("Observation", "kept", observation("9.9"))
            await tx.delete("Observation", "kept")
            await tx.create("Patient", {"resourceType": "Patient", "active": True})
            _ = 1 / 0
    assert await store.read("Observation", "new") is None
    assert await store.read("Observation", "kept") == kept
    assert await store.fetch_all("SELECT count(*) FROM resource_history") == [(1,)]
    assert await store.fetch_all("SELECT count(*) FROM resources") == [(1,)]


async def test_refused_operation_leaves_the_rest_of_the_transaction_usable(store: Store) -> None:
    await create(store, observation(), id="a")
    async with store.transaction() as tx:
        await tx.create("Observation", observation(), id="b")
        with pytest.raises(Conflict):
            await tx.create("Observation", observation(), id="a")
        with pytest.raises(PreconditionFailed):
            await tx.update("Observation", "a", observation(), if_match=5)
        await tx.update("Observation", "a", observation("3.0"))
    assert (await store.read("Observation", "a")).version_id == 2  # type: ignore[union-attr]
    assert await store.read("Observation", "b") is not None


async def test_transaction_sees_its_own_writes_and_others_see_them_after_commit(
    store: Store, store_backend: StoreBackend
) -> None:
    async with store.transaction() as tx:
        stored = await tx.create("Observation", observation(), id="mine")
        assert await tx.read("Observation", "mine") == stored
        placeholder = "?" if store.dialect == "sqlite" else "$1"
        sql = f"SELECT res_id, version FROM resources WHERE res_type = {placeholder}"
        assert await tx.fetch_all(sql, ["Observation"]) == [("mine", 1)]
        if store_backend.name == "sqlite-memory":
            with pytest.raises(RuntimeError, match="transaction"):
                await store.read("Observation", "mine")
        else:
            assert await store.read("Observation", "mine") is None
    assert await store.read("Observation", "mine") == stored
    assert await store.fetch_all(sql, ["Observation"]) == [("mine", 1)]


async def test_transaction_cannot_be_used_after_it_ends(store: Store) -> None:
    async with store.transaction() as tx:
        pass
    with pytest.raises(RuntimeError):
        await tx.create("Observation", observation())


# -- the clock ---------------------------------------------------------------------------------------


async def test_clock_in_another_zone_is_stored_as_utc(store: Store, clock: FakeClock) -> None:
    clock.set(datetime(2026, 6, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))))
    stored = await create(store, observation())
    assert stored.last_updated == datetime(2026, 6, 1, 12, 0, 0, 5, tzinfo=UTC)
    assert stored.resource()["meta"]["lastUpdated"] == "2026-06-01T12:00:00.000005+00:00"
    read = await store.read("Observation", stored.id)
    assert read is not None
    assert read.last_updated == stored.last_updated
    assert read.last_updated.utcoffset() == timedelta(0)


async def test_naive_clock_is_refused_and_nothing_is_written(store_backend: StoreBackend) -> None:
    store = store_backend.make(clock=lambda: datetime(2026, 1, 1))
    await store.open()
    try:
        with pytest.raises(ValueError, match="timezone"):
            await create(store, observation(), id="naive")
        assert await store.read("Observation", "naive") is None
    finally:
        await store.close()


async def test_decoded_body_round_trips(store: Store) -> None:
    stored = await create(store, observation("12.340"))
    assert jsonio.encode(stored.resource()) == stored.body


async def test_numbered_placeholders_bind_by_number(store: Store) -> None:
    """``$2 … $1`` binds by number on both backends (sqlite3 alone would bind in order of appearance)."""
    assert [tuple(r) for r in await store.fetch_all("SELECT $2, $1, $2", ["a", "b"])] == [("b", "a", "b")]
    async with store.transaction() as tx:
        assert [tuple(r) for r in await tx.fetch_all("SELECT $2 || $1", ["a", "b"])] == [("ba",)]
