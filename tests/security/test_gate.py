"""The gate's door: headers → Principal, sessions, and audit of requests that never got a principal."""

from __future__ import annotations

import pytest

from bindeled.errors import NotFound
from bindeled.security import AccessRefused, ContextMissing, Target, TokenRejected, verify_chain
from bindeled.security.gate import header_map
from tests.security.world import CARL, GP_PRACTICE, World

pytestmark = pytest.mark.anyio


async def test_missing_and_malformed_authorization(world: World) -> None:
    for headers, expected in (({}, "missing_token"), ({"Authorization": "Basic abc"}, "invalid_token")):
        with pytest.raises(TokenRejected) as refused:
            world.gate.authenticate(headers)
        assert refused.value.details_code == expected
        await world.gate.audit_unauthenticated(refused.value, "read", "req-x")
    events = [r.event() for r in world.sink.chain]
    assert [e["outcomeDesc"] for e in events] == ["missing_token", "invalid_token"]
    assert (await verify_chain(world.sink)).ok


async def test_headers_are_case_insensitive_and_may_be_pairs(world: World) -> None:
    token = world.token("gp")
    pairs = [("authorization", f"Bearer {token}"), ("x-purpose-of-use", "ESP_PLANS")]
    assert world.gate.authenticate(pairs).purpose == "ESP_PLANS"
    assert header_map([("A", "1"), ("a", "2")]) == {"a": "1"}


async def test_an_unknown_purpose_header_is_400(world: World) -> None:
    with pytest.raises(ContextMissing) as refused:
        world.principal("gp", **{"X-Purpose-Of-Use": "GOSSIP"})
    assert refused.value.details_code == "unknown_purpose"


async def test_a_session_decides_once_per_request_moment_and_records_flags(world: World) -> None:
    session = world.gate.session(world.principal("doctor", "ESP_APPOINTMENTS"), "corr")
    moment = session.now
    world.clock.now = moment.replace(year=2030)
    assert session.now == moment
    dora = Target("0303801234", GP_PRACTICE)
    session.check("read", "Appointment", dora)
    assert session.flags == {"pending_verification"}
    with pytest.raises(AccessRefused):
        session.check("read", "MedicationStatement", dora)
    await session.finish(status=403, error=AccessRefused("x", "purpose_not_covering"))
    await session.finish(status=200)  # only once
    assert len(world.sink.chain) == 1 and world.sink.entries == []


async def test_a_write_is_checked_and_logged_like_a_read(world: World) -> None:
    session = world.gate.session(world.principal("gp", "ESP_APPOINTMENTS"), "corr-w")
    session.check("create", "Appointment", Target(CARL, GP_PRACTICE, patient_ref="Patient/carl"))
    await session.finish(status=201)
    (entry,) = world.sink.entries
    assert (entry.activity, entry.citizen) == ("create", CARL)
    event = world.sink.chain[0].event()
    assert event["action"] == "C" and {"reference": "Patient/carl"} in [e["what"] for e in event["entity"]]


async def test_citizens_reading_other_citizens_data_get_not_found(world: World) -> None:
    session = world.gate.session(world.principal("citizen"), "c")
    with pytest.raises(NotFound):
        session.check("read", "Appointment", Target("0303801234"))
    assert session.filter("search", "Appointment", [(Target(CARL), "mine"), (Target("0303801234"), "theirs")]) == [
        "mine"
    ]
