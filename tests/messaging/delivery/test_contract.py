"""The delivery contract, run on every (database, delivery backend) pair: the same behaviour everywhere."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bindeled.messaging.delivery.deadletters import dead_letters, replay
from bindeled.messaging.delivery.mailbox import mailbox_letters
from bindeled.messaging.delivery.outbox import enqueue, on_receiver_acknowledgement
from bindeled.messaging.hub.status import message_status
from tests.messaging.delivery.conftest import MAILBOX_GLN, RECEIVER_GLN, SENDER_GLN, Hub, Receiver, letter, register

pytestmark = pytest.mark.anyio


async def hops(hub: Hub, message_id: str) -> list[str]:
    return [event["subtype"][0]["code"] for event in await message_status(hub.store, message_id)]


async def test_a_pushed_letter_arrives_unchanged_and_its_hops_are_recorded(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    item = letter()
    await hub.send(item)
    await hub.until(lambda: receiver.bodies)
    assert receiver.bodies == [item.payload]

    async def recorded() -> bool:
        return await hops(hub, item.message_id) == ["delivered"]

    await hub.until(recorded)


async def test_delivered_letter_waits_for_acknowledgement_and_is_settled_by_it(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    item = letter()
    await hub.send(item)

    async def delivered() -> bool:
        return (await hub.states()).get(item.message_id) == "delivered"

    await hub.until(delivered)
    async with hub.store.transaction() as tx:
        await on_receiver_acknowledgement(tx, item.message_id, "ok")
    hub.clock.advance(timedelta(hours=2))
    await hub.step()
    assert (await hub.states())[item.message_id] == "acknowledged"
    assert receiver.message_ids() == [item.message_id]
    assert await hops(hub, item.message_id) == ["delivered", "receiver-acknowledged"]


async def test_transient_errors_are_retried_until_the_letter_is_delivered(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    receiver.answers = [503, 500, 429]
    item = letter()
    await hub.send(item)
    await hub.until(lambda: receiver.received)
    assert receiver.message_ids() == [item.message_id]
    assert receiver.answers == []


async def test_a_receiver_that_is_down_gets_everything_when_it_comes_back(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    await receiver.stop()
    items = [letter() for _ in range(20)]
    await hub.send(*items)
    for _ in range(5):
        await hub.step()
    assert not receiver.received
    await receiver.start()
    await hub.until(lambda: len(receiver.received) >= len(items))
    assert sorted(receiver.message_ids()) == sorted(i.message_id for i in items)


async def test_a_fatal_error_is_never_retried_and_lands_on_the_dead_letter_list(
    hub: Hub, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    receiver.answers = [400]
    item = letter()
    with caplog.at_level(logging.ERROR, "bindeled.messaging.delivery"):
        await hub.send(item)

        async def dead() -> bool:
            return (await hub.states()).get(item.message_id) == "dead"

        await hub.until(dead)
    for _ in range(3):
        await hub.step()
    assert receiver.received == []
    assert await hops(hub, item.message_id) == ["failed", "dead-lettered"]
    listed = await dead_letters(hub.store)
    assert [d.message_id for d in listed] == [item.message_id]
    assert listed[0].reason == "receiver answered HTTP 400"
    alert = [r for r in caplog.records if getattr(r, "alert", "") == "message-delivery-failed"]
    assert len(alert) == 1 and alert[0].message_id == item.message_id  # type: ignore[attr-defined]


async def test_an_operator_replays_a_dead_letter_in_a_new_envelope(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    receiver.answers = [404]
    item = letter()
    await hub.send(item)

    async def dead() -> bool:
        return bool(await dead_letters(hub.store))

    await hub.until(dead)
    assert await replay(hub.store, item.message_id, is_acknowledgement=False, now=hub.clock(), operator="op")
    assert not await replay(hub.store, item.message_id, is_acknowledgement=False, now=hub.clock(), operator="op")
    await hub.until(lambda: receiver.received)
    assert receiver.message_ids() == [item.message_id]
    assert receiver.received[0]["id"] != item.envelope_id
    assert await dead_letters(hub.store) == []
    assert await hops(hub, item.message_id) == ["failed", "dead-lettered", "replayed", "delivered"]


async def test_too_many_transient_errors_mark_the_letter_failed(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    receiver.answers = [503] * hub.policy.max_attempts
    item = letter()
    await hub.send(item)

    async def dead() -> bool:
        return (await hub.states()).get(item.message_id) == "dead"

    await hub.until(dead)
    assert receiver.received == []
    (listed,) = await dead_letters(hub.store)
    assert listed.reason.endswith(f"gave up after {hub.policy.max_attempts} attempts")


async def test_an_unacknowledged_letter_is_sent_again_in_new_envelopes_then_fails(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    item = letter()
    await hub.send(item)
    for copy in range(1, hub.policy.max_resends + 2):
        await hub.until(lambda n=copy: len(receiver.received) >= n)  # type: ignore[misc]

        async def delivered() -> bool:
            return (await hub.states()).get(item.message_id) == "delivered"

        await hub.until(delivered)
        hub.clock.advance(hub.policy.ack_timeout + timedelta(seconds=1))
    await hub.step()
    assert (await hub.states())[item.message_id] == "dead"
    assert receiver.message_ids() == [item.message_id] * (hub.policy.max_resends + 1)
    envelopes = [bundle["id"] for bundle in receiver.received]
    assert len(set(envelopes)) == len(envelopes) and envelopes[0] == item.envelope_id
    first, *others = receiver.received
    for other in others:
        assert {**other, "id": first["id"]} == first
    assert (await hops(hub, item.message_id))[-2:] == ["failed", "dead-lettered"]


async def test_a_transient_error_acknowledgement_leaves_the_letter_to_be_sent_again(
    hub: Hub, receiver: Receiver
) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    item = letter()
    await hub.send(item)
    await hub.until(lambda: receiver.received)
    async with hub.store.transaction() as tx:
        await on_receiver_acknowledgement(tx, item.message_id, "transient-error")
    hub.clock.advance(hub.policy.ack_timeout + timedelta(seconds=1))
    await hub.until(lambda: len(receiver.received) == 2)
    assert "receiver-acknowledged" in await hops(hub, item.message_id)


async def test_mailbox_letters_are_listed_for_their_receiver_only(hub: Hub) -> None:
    await register(hub.store, MAILBOX_GLN, mode="mailbox")
    item = letter(receiver=MAILBOX_GLN)
    await hub.send(item)

    async def in_mailbox() -> bool:
        return bool(await mailbox_letters(hub.store, MAILBOX_GLN, since=None, limit=10))

    await hub.until(in_mailbox)
    (found,) = await mailbox_letters(hub.store, MAILBOX_GLN, since=None, limit=10)
    assert (found.message_id, found.payload) == (item.message_id, item.payload)
    assert await mailbox_letters(hub.store, RECEIVER_GLN, since=None, limit=10) == []
    assert await mailbox_letters(hub.store, MAILBOX_GLN, since=found.delivered, limit=10) == []


async def test_an_acknowledgement_to_an_unregistered_sender_goes_to_its_mailbox(hub: Hub) -> None:
    ack = letter(receiver=SENDER_GLN, is_ack=True)
    await hub.send(ack)

    async def in_mailbox() -> bool:
        return bool(await mailbox_letters(hub.store, SENDER_GLN, since=None, limit=10))

    await hub.until(in_mailbox)
    hub.clock.advance(timedelta(hours=3))
    await hub.step()
    rows = await hub.store.fetch_all("SELECT state, copies FROM hub_outbox WHERE is_ack = 1")
    assert [(str(s), int(c)) for s, c in rows] == [("delivered", 1)]


async def test_a_letter_to_an_unregistered_receiver_is_dead_lettered(hub: Hub) -> None:
    item = letter(receiver="5790000000005")
    await hub.send(item)

    async def dead() -> bool:
        return bool(await dead_letters(hub.store))

    await hub.until(dead)
    (listed,) = await dead_letters(hub.store)
    assert "no active endpoint" in listed.reason


async def test_a_letter_queued_in_a_rolled_back_transaction_is_never_delivered(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    with pytest.raises(RuntimeError):
        async with hub.store.transaction() as tx:
            await enqueue(tx, letter())
            raise RuntimeError("the receiving transaction failed")
    kept = letter()
    await hub.send(kept)
    await hub.until(lambda: receiver.received)
    for _ in range(3):
        await hub.step()
    assert receiver.message_ids() == [kept.message_id]


async def test_queueing_the_same_letter_twice_delivers_it_once(hub: Hub, receiver: Receiver) -> None:
    await register(hub.store, RECEIVER_GLN, url=receiver.url)
    item = letter()
    await hub.send(item)
    await hub.send(item)
    await hub.until(lambda: receiver.received)
    for _ in range(3):
        await hub.step()
    assert receiver.message_ids() == [item.message_id]
