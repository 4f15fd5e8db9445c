"""The hop trail (AuditEvents) and the endpoint register, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.messaging.hub.endpoints import (
    ReceiverEndpoint,
    endpoint_id,
    endpoint_resource,
    find_endpoint,
    read_endpoint,
)
from bindeled.messaging.hub.status import Hop, hop_event, message_status, record_hop
from bindeled.store.guard import as_system
from tests.messaging.hub.conftest import Stored

GLN = "5790000209354"
SOR = "265161000016000"
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

_types = st.sampled_from(["hospital-notification-message", "care-communication-message", "acknowledgement-message"])
_versions = st.sampled_from(["1.2", "2.0", "3.0", "5.0"])


@given(
    accepts=st.frozensets(st.tuples(_types, _versions), max_size=6),
    mode=st.sampled_from(["push", "mailbox"]),
)
def test_an_endpoint_resource_reads_back_as_itself(accepts: frozenset[tuple[str, str]], mode: str) -> None:
    url = "https://receiver.example/medcom" if mode == "push" else ""
    endpoint = ReceiverEndpoint(GLN, SOR, mode, url, accepts)  # type: ignore[arg-type]
    assert read_endpoint(endpoint_resource(endpoint)) == endpoint


def test_the_endpoint_resource_is_valid_fhir(definitions: Definitions) -> None:
    endpoint = ReceiverEndpoint(GLN, SOR, "mailbox", "", frozenset({("hospital-notification-message", "3.0")}))
    issues = Validator(definitions).validate(endpoint_resource(endpoint), ())
    assert [i for i in issues if i.is_error] == []


def test_only_active_medcom_endpoints_count() -> None:
    endpoint = endpoint_resource(ReceiverEndpoint(GLN, SOR, "push", "https://x.example", frozenset()))
    assert read_endpoint({**endpoint, "status": "off"}) is None
    assert read_endpoint({**endpoint, "identifier": []}) is None
    other = {**endpoint, "connectionType": {"system": "http://example.org", "code": "direct-project"}}
    assert read_endpoint(other) is None


@pytest.mark.anyio
async def test_find_endpoint_reads_the_register(stored: Stored) -> None:
    endpoint = ReceiverEndpoint(GLN, SOR, "mailbox", "", frozenset({("care-communication-message", "5.0")}))
    with as_system():
        assert await find_endpoint(stored.store, GLN) is None
        # The SOR import's Endpoint for the same GLN says nothing about what it accepts: not the register.
        sor_import = {**endpoint_resource(endpoint), "id": f"gln-{GLN}"}
        await stored.repo.update("Endpoint", f"gln-{GLN}", sor_import)
        assert await find_endpoint(stored.store, GLN) is None
        await stored.repo.update("Endpoint", endpoint_id(GLN), endpoint_resource(endpoint))
        assert await find_endpoint(stored.store, GLN) == endpoint
        await stored.repo.delete("Endpoint", endpoint_id(GLN))
        assert await find_endpoint(stored.store, GLN) is None


@pytest.mark.anyio
async def test_hops_come_back_oldest_first_as_audit_events(stored: Stored, definitions: Definitions) -> None:
    steps = [(Hop.RECEIVED, ""), (Hop.VALIDATED, ""), (Hop.ACKNOWLEDGED, "ok"), (Hop.FAILED, "timeout")]
    async with stored.store.transaction() as tx:
        for n, (hop, detail) in enumerate(steps):
            await record_hop(
                tx,
                "letter-1",
                hop,
                message_type="hospital-notification-message",
                sender_gln=GLN,
                receiver_gln="5790001348120",
                detail=detail,
                at=T0 + timedelta(seconds=n),
            )
        await record_hop(
            tx,
            "letter-2",
            Hop.RECEIVED,
            message_type="x",
            sender_gln=GLN,
            receiver_gln=GLN,
            at=T0,
        )
    events = await message_status(stored.store, "letter-1")
    assert [e["subtype"][0]["code"] for e in events] == [h.value for h, _ in steps]
    assert [e["outcome"] for e in events] == ["0", "0", "0", "8"]
    assert events[2]["outcomeDesc"] == "ok" and "outcomeDesc" not in events[0]
    validator = Validator(definitions)
    for event in events:
        assert [i for i in validator.validate(event, ()) if i.is_error] == []
    assert await message_status(stored.store, "never-seen") == []


@pytest.mark.anyio
async def test_a_hop_rolls_back_with_its_transaction(stored: Stored) -> None:
    with pytest.raises(RuntimeError):
        async with stored.store.transaction() as tx:
            await record_hop(tx, "letter-3", Hop.RECEIVED, message_type="x", sender_gln=GLN, receiver_gln=GLN)
            raise RuntimeError("crash")
    assert await message_status(stored.store, "letter-3") == []


def test_hop_times_must_be_zoned() -> None:
    event = hop_event("m", Hop.DELIVERED, message_type="x", sender_gln=GLN, receiver_gln=GLN, detail="", at=T0)
    assert event["recorded"] == "2026-05-01T08:00:00.000000+00:00"


@pytest.mark.anyio
async def test_naive_hop_times_are_refused(stored: Stored) -> None:
    with pytest.raises(ValueError):
        async with stored.store.transaction() as tx:
            await record_hop(
                tx, "m", Hop.RECEIVED, message_type="x", sender_gln=GLN, receiver_gln=GLN, at=datetime(2026, 1, 1)
            )
