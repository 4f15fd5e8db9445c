"""Settling a round: many delivered letters written in one statement, each exactly as one at a time would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bindeled.messaging.delivery.outbox import enqueue_all
from bindeled.messaging.delivery.policy import DeliveryPolicy
from bindeled.messaging.delivery.queue import claim_due, mark_dead, resend_overdue
from bindeled.messaging.delivery.settle import settle_all
from bindeled.messaging.delivery.transport import Outcome
from bindeled.messaging.hub.status import message_status
from bindeled.store.base import Store
from tests.messaging.delivery.conftest import letter

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(ack_timeout=timedelta(minutes=30), max_attempts=3)


async def _rows(store: Store) -> dict[str, tuple[str, str, str, str]]:
    rows = await store.fetch_all("SELECT message_id, state, channel, delivered_at, envelope_id FROM hub_outbox")
    return {str(r[0]): (str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows}


async def _hops(store: Store, message_id: str) -> list[tuple[str, str]]:
    return [(e["subtype"][0]["code"], e.get("outcomeDesc", "")) for e in await message_status(store, message_id)]


async def test_a_round_is_settled_per_letter_by_channel_and_outcome(store: Store) -> None:
    items = [letter() for _ in range(6)]
    async with store.transaction() as tx:
        await enqueue_all(tx, items, at=T0)
    claimed = await claim_due(store, T0, limit=10, lease=timedelta(minutes=1))
    assert [c.message_id for c in claimed] == [i.message_id for i in items]
    outcomes = [
        Outcome("delivered", "push"),
        Outcome("delivered", "mailbox"),
        Outcome("transient", error="receiver answered HTTP 503"),
        Outcome("fatal", error="receiver answered HTTP 400"),
        Outcome("delivered", "push"),
        Outcome("delivered", "push"),
    ]
    # The last letter was dead-lettered by an operator meanwhile: its delivery is not recorded over that.
    await mark_dead(store, claimed[5], T0, reason="operator")
    now = T0 + timedelta(seconds=5)

    decisions = await settle_all(store, POLICY, list(zip(claimed, outcomes, strict=True)), now)

    assert decisions == ["delivered", "delivered", "retry", "dead", "delivered", "delivered"]
    rows = await _rows(store)
    moment = rows[items[0].message_id][2]
    assert moment.startswith("2026-03-02")
    assert rows[items[0].message_id][:2] == ("delivered", "push")
    assert rows[items[1].message_id][:2] == ("delivered", "mailbox")
    assert rows[items[2].message_id][:2] == ("pending", "")
    assert rows[items[3].message_id][:2] == ("dead", "")
    assert rows[items[4].message_id][:2] == ("delivered", "push")
    assert rows[items[5].message_id][:3] == ("dead", "", "")
    assert await _hops(store, items[0].message_id) == [("delivered", f"push envelope {items[0].envelope_id}")]
    assert await _hops(store, items[1].message_id) == [("delivered", f"mailbox envelope {items[1].envelope_id}")]
    assert await _hops(store, items[2].message_id) == []
    assert [h for h, _ in await _hops(store, items[3].message_id)] == ["failed", "dead-lettered"]
    assert [h for h, _ in await _hops(store, items[5].message_id)] == ["failed", "dead-lettered"]


async def test_a_copy_replaced_by_a_new_envelope_is_not_marked_delivered(store: Store) -> None:
    item = letter()
    async with store.transaction() as tx:
        await enqueue_all(tx, [item], at=T0)
    (first,) = await claim_due(store, T0, limit=1, lease=timedelta(minutes=1))
    await settle_all(store, POLICY, [(first, Outcome("delivered", "push"))], T0)
    assert await resend_overdue(store, T0 + timedelta(hours=1), max_resends=3) == 1
    (second,) = await claim_due(store, T0 + timedelta(hours=1), limit=1, lease=timedelta(minutes=1))
    assert second.envelope_id != first.envelope_id

    # A late outcome for the old copy changes nothing; the new copy's outcome is recorded.
    later = T0 + timedelta(hours=1, seconds=1)
    await settle_all(store, POLICY, [(first, Outcome("delivered", "push"))], later)
    assert (await _rows(store))[item.message_id][0] == "pending"
    await settle_all(store, POLICY, [(second, Outcome("delivered", "push"))], later)
    state, _, _, envelope = (await _rows(store))[item.message_id]
    assert (state, envelope) == ("delivered", second.envelope_id)
    assert [h for h, _ in await _hops(store, item.message_id)] == ["delivered", "resent", "delivered"]
