"""The AuditSink contract, run against every implementation: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest

from bindeled.security import AuditRecord, InMemoryAuditSink, MinLogEntry, SqlAuditSink, build_audit_event, verify_chain
from bindeled.security.sinks import AuditSink, purge_expired
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from tests.backends import postgres_database

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_database("bindeled_security") as url:
        yield url


async def _emptied(store: Store) -> Store:
    async with store.transaction() as tx:
        for sql in ("DELETE FROM audit_chain", "DELETE FROM minlog"):
            await tx.fetch_all(sql)
        zero = "0" * 64
        await tx.fetch_all(
            "UPDATE audit_chain_state SET anchor_seq = 0, anchor_hash = $1, head_seq = 0, head_hash = $1", (zero,)
        )
    return store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the sink keeps its records ("memory": nowhere); PostgreSQL gets one database per module."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return "memory" if request.param == "memory" else f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture
async def sink(backend_url: str) -> AsyncIterator[AuditSink]:
    if backend_url == "memory":
        yield InMemoryAuditSink()
        return
    store = open_store(backend_url)
    await store.open()
    try:
        yield SqlAuditSink(await _emptied(store))
    finally:
        await store.close()


def event(i: int) -> dict[str, object]:
    return build_audit_event(interaction="read", recorded=T0, outcome="0", principal=None, request_id=f"r{i}")


def entry(citizen: str, when: datetime, correlation: str = "c1") -> MinLogEntry:
    return MinLogEntry(
        citizen=citizen,
        activity="read",
        time=when,
        correlation_id=correlation,
        user_id="u-doc",
        user_full_name="Henrik Demo Overlæge",
        user_role="doctor",
        organisation_sor="900000000000212",
        organisation_name="Demo Sygehus",
        system_name="DemoSP",
        purpose="ESP_APPOINTMENTS",
        resource_types=("Appointment",),
        emergency=True,
        emergency_reason="not_contactable",
    )


async def test_appended_records_chain_and_verify(sink: AuditSink) -> None:
    first = await sink.append([event(1), event(2)], [], recorded=T0)
    second = await sink.append([event(3)], [], recorded=T0 + timedelta(seconds=1))
    assert [r.seq for r in first + second] == [1, 2, 3]
    assert second[0].prev_hash == first[1].hash
    assert [r.hash for r in await sink.records()] == [r.hash for r in first + second]
    assert [r.seq for r in await sink.records(1, 1)] == [2]
    state = await sink.chain_state()
    assert (state.head_seq, state.head_hash) == (3, second[0].hash)
    result = await verify_chain(sink, page=2)
    assert (result.ok, result.checked) == (True, 3)


async def test_verify_checks_up_to_the_head_it_started_from(sink: AuditSink) -> None:
    """A live server keeps appending while the chain is walked; those records are not a truncation."""
    await sink.append([event(1), event(2), event(3)], [], recorded=T0)
    original = sink.records
    appended = False

    async def records_while_appending(after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        nonlocal appended
        if not appended:
            appended = True
            await sink.append([event(4), event(5)], [], recorded=T0 + timedelta(seconds=1))
        return await original(after_seq, limit)

    sink.records = records_while_appending  # type: ignore[method-assign]
    result = await verify_chain(sink, page=2)
    assert (result.ok, result.checked) == (True, 3)
    sink.records = original  # type: ignore[method-assign]
    assert (await verify_chain(sink)).checked == 5


async def test_minlog_entries_round_trip_with_their_zone(sink: AuditSink) -> None:
    kept = entry("6101709995", T0.astimezone(CET))
    await sink.append([], [kept, entry("0303801234", T0)], recorded=T0)
    assert await sink.minlog("6101709995") == [kept]
    found = (await sink.minlog("6101709995"))[0]
    assert found.time.utcoffset() == timedelta(hours=1)
    assert await sink.minlog("6101709995", since=T0 + timedelta(seconds=1)) == []


async def test_purge_keeps_the_rest_verifiable(sink: AuditSink) -> None:
    for day in range(4):
        when = T0 + timedelta(days=day)
        await sink.append([event(day)], [entry("6101709995", when)], recorded=when)
    counts = await sink.purge(audit_before=T0 + timedelta(days=2), minlog_before=T0 + timedelta(days=1))
    assert (counts.audit_records, counts.minlog_entries) == (2, 1)
    assert [r.seq for r in await sink.records()] == [3, 4]
    assert (await verify_chain(sink)).ok
    assert len(await sink.minlog("6101709995")) == 3
    counts = await purge_expired(sink, T0 + timedelta(days=800))
    assert (counts.audit_records, counts.minlog_entries) == (2, 3)
    assert (await verify_chain(sink)).ok


async def test_an_empty_chain_verifies(sink: AuditSink) -> None:
    assert (await verify_chain(sink)).ok


async def _tamper(sink: AuditSink, seq: int) -> None:
    if isinstance(sink, InMemoryAuditSink):
        from dataclasses import replace

        sink.chain[seq - 1] = replace(sink.chain[seq - 1], body=sink.chain[seq - 1].body.replace(b'"0"', b'"8"'))
        return
    assert isinstance(sink, SqlAuditSink)
    async with sink.store.transaction() as tx:
        # An intruder with database access can lift the append-only trigger; the chain still tells.
        await tx.fetch_all("DROP TRIGGER audit_chain_append_only" + (" ON audit_chain" if sink._lock else ""))
        rows = await tx.fetch_all("SELECT body FROM audit_chain WHERE seq = $1", (seq,))
        changed = bytes(rows[0][0]).replace(b'"0"', b'"8"')
        await tx.fetch_all("UPDATE audit_chain SET body = $1 WHERE seq = $2", (changed, seq))
        await tx.fetch_all(_RESTORE_POSTGRES if sink._lock else _RESTORE_SQLITE)


_RESTORE_POSTGRES = """CREATE TRIGGER audit_chain_append_only BEFORE UPDATE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_refuse_update()"""
_RESTORE_SQLITE = """CREATE TRIGGER audit_chain_append_only BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END"""


async def test_audit_verify_catches_a_tampered_record(sink: AuditSink) -> None:
    await sink.append([event(i) for i in range(5)], [], recorded=T0)
    await _tamper(sink, 3)
    result = await verify_chain(sink)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 3, "changed")


async def test_sql_records_are_append_only_and_roll_back_with_the_transaction(sink: AuditSink) -> None:
    if not isinstance(sink, SqlAuditSink):
        pytest.skip("the in-memory sink has no transactions")
    await sink.append([event(1)], [], recorded=T0)
    with pytest.raises(Exception, match="append-only"):
        async with sink.store.transaction() as tx:
            await tx.fetch_all("UPDATE audit_chain SET hash = 'x' WHERE seq = 1")
    with pytest.raises(RuntimeError):
        async with sink.store.transaction() as tx:
            await sink.append([event(2)], [entry("6101709995", T0)], recorded=T0, tx=tx)
            raise RuntimeError("the data write failed")
    assert [r.seq for r in await sink.records()] == [1]
    assert await sink.minlog("6101709995") == []
    assert (await verify_chain(sink)).ok


async def test_concurrent_appends_never_fork_the_chain(sink: AuditSink) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(lambda i=i: sink.append([event(i)], [], recorded=T0))
    result = await verify_chain(sink)
    assert (result.ok, result.checked) == (True, 8)


async def test_a_missing_state_row_is_recreated(sink: AuditSink) -> None:
    if not isinstance(sink, SqlAuditSink):
        pytest.skip("only the SQL sink keeps its state in a row")
    async with sink.store.transaction() as tx:
        await tx.fetch_all("DELETE FROM audit_chain_state")
    assert (await sink.chain_state()).head_seq == 0
    await sink.append([event(1)], [], recorded=T0)
    assert (await verify_chain(sink)).ok
