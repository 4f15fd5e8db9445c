"""The administered registers, pending-verification flags and the write-behind audit queue on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bindeled.errors import InvalidRequest
from bindeled.security import MinLogEntry, Principal, Registers, SqlAuditSink, build_audit_event, verify_chain
from bindeled.security.audit_queue import WriteBehindAuditSink, audit_sink_for
from bindeled.security.authorisation_import import parse_snapshot
from bindeled.security.demo import demo_registers, save_demo_registers
from bindeled.security.loading import load_registers, registers_marker
from bindeled.security.pending import PendingStore, pending_access
from bindeled.security.register_documents import (
    ClientDoc,
    DelegationDoc,
    RelationDoc,
    TrustAgreementDoc,
    decode_document,
    document_view,
)
from bindeled.security.register_store import RegisterStore, save_registers
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from tests.backends import postgres_database

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOME_CARE = "12519999999100"
GP = Principal(
    "hcp", "u-gp", "iss", "G P", "doctor", "GP7K2", "7170", "17459999999100", None, "DemoEPJ", "1", "SJ_READ"
)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_database("bindeled_registers") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        found: str = request.getfixturevalue("postgres_url")
        return found
    return f"sqlite:///{tmp_path / 'registers.db'}"


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    opened = open_store(url)
    await opened.open()
    async with opened.transaction() as tx:
        for table in ("security_register_entry", "security_authorisation", "security_pending_verification"):
            await tx.fetch_all(f"DELETE FROM {table}")
    try:
        yield opened
    finally:
        await opened.close()


def _agreement(**changes: object) -> TrustAgreementDoc:
    fields: dict[str, object] = {
        "id": "ta-kih",
        "organisation_sor": HOME_CARE,
        "system_name": "DemoCare",
        "purpose": "KIH_READ",
        "last_review": NOW - timedelta(days=10),
    }
    return TrustAgreementDoc(**(fields | changes))  # type: ignore[arg-type]


async def test_documents_are_stored_listed_replaced_and_deleted(store: Store) -> None:
    registers = RegisterStore(store)
    before = await registers.version()
    assert await registers.put("trust-agreements", _agreement(), NOW) is True
    assert await registers.put("trust-agreements", _agreement(withdrawn_at=NOW), NOW) is False
    assert await registers.version() == before + 2
    [found] = await registers.entries("trust-agreements")
    assert found.withdrawn_at == NOW
    assert document_view(found)["review_due"] == (NOW - timedelta(days=10) + timedelta(days=183)).isoformat()
    assert await registers.get("trust-agreements", "missing") is None
    assert await registers.delete("trust-agreements", "ta-kih") is True
    assert await registers.delete("trust-agreements", "ta-kih") is False
    assert await registers.entries("trust-agreements") == []


async def test_the_gate_registers_are_rebuilt_from_the_store(store: Store) -> None:
    registers = RegisterStore(store)
    marker = await registers_marker(store)
    await registers.put("trust-agreements", _agreement(), NOW)
    relation = RelationDoc(id="r1", citizen="6203853712", kind="assigned_gp", organisation_sor="17459999999100")
    await registers.put("treatment-relations", relation, NOW)
    delegation = DelegationDoc(id="d1", helper_id="NS3B8", delegator_authorisation_id="HD4M9", purposes=["FMK_WRITE"])
    await registers.put("delegations", delegation, NOW)
    csv = b"authorisation_id,name,education_code,status\nIMP01,Ida Import,5166,active\nIMP02,Ib Import,7170,revoked\n"
    done = await registers.import_authorisations(parse_snapshot(csv, "text/csv"), fmt="csv", data=csv, now=NOW)
    assert (done.rows, done.counting) == (2, 1)
    assert await registers_marker(store) != marker
    built = await load_registers(store, Registers())
    assert [a.id for a in built.agreements_for(HOME_CARE, "DemoCare")] == ["ta-kih"]
    assert built.relations_of("6203853712", NOW)[0].kind == "assigned_gp"
    assert built.delegation({"NS3B8"}, "HD4M9", "FMK_WRITE", NOW) is not None
    assert built.authorisation("IMP01", NOW) is not None
    assert built.authorisation("IMP02", NOW) is None and built.knows_authorisation("IMP02")
    last = await registers.last_import()
    assert last is not None and (last.rows, last.counting, last.format) == (2, 1, "csv")
    assert [r.name for r in await registers.authorisation_rows("IMP01")] == ["Ida Import"]
    again = b"authorisation_id,name,education_code,status\nIMP03,Ea Import,5166,active\n"
    await registers.import_authorisations(parse_snapshot(again, "text/csv"), fmt="csv", data=again, now=NOW)
    rebuilt = await load_registers(store, Registers())
    assert not rebuilt.knows_authorisation("IMP01") and rebuilt.authorisation("IMP03", NOW) is not None


async def test_a_large_snapshot_is_imported_in_batches(store: Store) -> None:
    lines = ["authorisation_id,name,education_code,status"] + [f"A{i},Name {i},7170,active" for i in range(450)]
    data = "\n".join(lines).encode()
    registers = RegisterStore(store)
    done = await registers.import_authorisations(parse_snapshot(data, "text/csv"), fmt="csv", data=data, now=NOW)
    assert done.rows == 450 and len(await registers.authorisations()) == 450


async def test_the_demo_registers_can_be_saved_into_the_store_twice(store: Store) -> None:
    demo = demo_registers(NOW)
    for _ in range(2):
        await save_demo_registers(store, NOW)
    await save_registers(store, demo, NOW, names={})
    await save_demo_registers(store, NOW)
    built = await RegisterStore(store).registers(Registers())
    assert [r.name for r in await RegisterStore(store).authorisation_rows("GP7K2")] == ["Gitte Demo Praktiserende"]
    assert {a.authorisation_id for a in built.authorisations} == {a.authorisation_id for a in demo.authorisations}
    assert {t.id for t in built.trust_agreements} == {t.id for t in demo.trust_agreements}
    assert built.trust_agreements[0].review_lapsed(NOW) is False


def test_documents_are_checked_before_they_are_stored() -> None:
    good = b'{"organisation_sor": "12519999999100", "system_name": "DemoCare", "purpose": "KIH_READ"}'
    assert decode_document(TrustAgreementDoc, good, "ta-1").id == "ta-1"
    bad = [
        (TrustAgreementDoc, good.replace(b"KIH_READ", b"NOPE"), "purpose"),
        (TrustAgreementDoc, good.replace(b"12519999999100", b"x"), "organisation_sor"),
        (TrustAgreementDoc, good[:-1] + b', "extra": 1}', "extra"),
        (TrustAgreementDoc, good[:-1] + b', "municipality_code": "461"}', "municipality_code"),
        (TrustAgreementDoc, good[:-1] + b', "last_review": "2026-01-01T00:00:00"}', "last_review"),
        (TrustAgreementDoc, good[:-1] + b', "id": "other"}', "id"),
        (RelationDoc, b'{"citizen": "123", "kind": "encounter", "organisation_sor": "12519999999100"}', "citizen"),
        (RelationDoc, b'{"citizen": "6203853712", "kind": "x", "organisation_sor": "12519999999100"}', "kind"),
        (DelegationDoc, b'{"helper_id": "a", "delegator_authorisation_id": "b", "purposes": []}', "purposes"),
        (
            ClientDoc,
            b'{"jwks": {"keys": [{"d": "secret"}]}, "system_name": "s", "organisation_sor": "1234567890123"}',
            "jwks",
        ),
        (
            ClientDoc,
            b'{"jwks": {"keys": [{"kty": "EC"}]}, "system_name": "s", "organisation_sor": "12345678901",'
            b' "scopes": "user/*.rs"}',
            "scopes",
        ),
    ]
    for kind, body, field in bad:
        with pytest.raises(InvalidRequest) as refused:
            decode_document(kind, body, "ta-1")
        assert refused.value.details_code == "invalid_register_entry"
        assert refused.value.location == (field,)
        assert "6203853712" not in refused.value.message
    with pytest.raises(InvalidRequest):
        decode_document(TrustAgreementDoc, b"[", "ta-1")
    with pytest.raises(InvalidRequest):
        decode_document(TrustAgreementDoc, good, "bad id!")


async def test_pending_flags_merge_per_day_user_citizen_and_purpose(store: Store) -> None:
    sink = SqlAuditSink(store)
    flag = pending_access(GP, "6203853712", "Patient/p1", NOW, "corr-1")
    event = build_audit_event(interaction="read", recorded=NOW, outcome="0", principal=GP)
    await sink.append([event], [], recorded=NOW, pending=[flag])
    await sink.append([event], [], recorded=NOW, pending=[flag, pending_access(GP, "6203853712", None, NOW, "c2")])
    other_day = pending_access(GP, "6203853712", "Patient/p1", NOW + timedelta(days=1), "corr-3")
    await sink.append([event], [], recorded=NOW, pending=[other_day])
    flags = PendingStore(store)
    assert await flags.open_count() == 2
    first, second = await flags.listing("open")
    assert (first["patient"], first["accesses"], first["purpose"]) == ("Patient/p1", 3, "SJ_READ")
    assert first["accessed_by"]["authorisation_id"] == "GP7K2"
    assert "6203853712" not in str(first)  # the API view never carries the CPR number
    assert await flags.resolve(int(first["id"]), "treatment relation confirmed", NOW) is True
    assert await flags.resolve(999999, "x", NOW) is False
    assert await flags.open_count() == 1
    [resolved] = await flags.listing("resolved")
    assert resolved["status"] == "resolved" and resolved["resolution"] == "treatment relation confirmed"
    assert len(await flags.listing("all")) == 2 and second["status"] == "open"


def _entry(citizen: str, correlation: str) -> MinLogEntry:
    return MinLogEntry(
        citizen=citizen,
        activity="read",
        time=NOW,
        correlation_id=correlation,
        user_id="u-gp",
        user_full_name="G P",
        user_role="doctor",
        organisation_sor="17459999999100",
        organisation_name="Lægerne",
        system_name="DemoEPJ",
        purpose="SJ_READ",
    )


async def test_write_behind_queues_reads_and_keeps_the_chain_intact(store: Store) -> None:
    sink = audit_sink_for(store, write_behind_ms=60_000, queue_limit=3)
    assert isinstance(sink, WriteBehindAuditSink)
    inner = sink.inner
    head = (await inner.chain_state()).head_seq
    event = build_audit_event(interaction="read", recorded=NOW, outcome="0", principal=GP)
    await sink.append([event], [_entry("6203853712", "sync")], recorded=NOW)  # no worker yet: written at once
    assert (await inner.chain_state()).head_seq == head + 1
    async with sink.running():
        await sink.append([event], [_entry("6203853712", "q1")], recorded=NOW)
        await sink.append([event], [], recorded=NOW)
        assert sink.queued == 2 and (await inner.chain_state()).head_seq == head + 1  # waiting
        async with store.transaction() as tx:  # a write's records go into its own transaction, at once
            await sink.append([event], [], recorded=NOW, tx=tx)
        assert sink.queued == 2
        await sink.append([event], [], recorded=NOW)  # the third fills the queue: written before returning
        assert sink.queued == 0 and (await inner.chain_state()).head_seq == head + 5
        await sink.append([event], [_entry("6203853712", "q2")], recorded=NOW)
        assert [e.correlation_id for e in await sink.minlog("6203853712")][-1] == "q2"  # reading flushes
        await sink.append([event], [], recorded=NOW)
    assert sink.queued == 0 and (await inner.chain_state()).head_seq == head + 7  # leaving flushes the rest
    assert (await verify_chain(inner)).ok


async def test_the_worker_writes_within_its_delay(store: Store) -> None:
    sink = audit_sink_for(store, write_behind_ms=20, queue_limit=100)
    assert isinstance(sink, WriteBehindAuditSink)
    head = (await sink.inner.chain_state()).head_seq
    event = build_audit_event(interaction="search", recorded=NOW, outcome="0", principal=GP)
    async with sink.running():
        await sink.append([event], [], recorded=NOW)
        for _ in range(1000):  # the worker writes it on its own, without anyone flushing
            if (await sink.inner.chain_state()).head_seq == head + 1:
                break
            await asyncio.sleep(0.01)
        assert sink.queued == 0
        assert (await sink.inner.chain_state()).head_seq == head + 1
    assert audit_sink_for(store, write_behind_ms=0, queue_limit=1).__class__ is SqlAuditSink
