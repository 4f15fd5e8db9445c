"""NATS JetStream as the transport at scale: transactional outbox → relay → stream → pull consumers.

Letters are still written to the database outbox in the receiving transaction (so receipt and queueing
commit together). A *relay* leases due outbox rows, publishes each to the stream ``<stream>`` on the
subject ``<stream>.letters`` with ``Nats-Msg-Id`` = the envelope id, waits for JetStream's
acknowledgement and marks the rows ``relayed``. If the relay dies between publishing and marking, the
lease runs out, the row is published again with the same ``Nats-Msg-Id``, and JetStream drops the
duplicate (its de-duplication window is kept longer than the lease).

A durable pull consumer ``<stream>_delivery`` (work-queue retention, file storage: nothing is lost when
NATS restarts) hands letters to the hub processes. Each delivery attempt ends in ``ack`` (delivered:
the outbox row is marked delivered and waits for the receiver's Acknowledgement as with the database
backend), ``nak`` with the back-off delay (transient error), or ``term`` after the letter was marked
failed and dead-lettered (fatal error, or the last allowed attempt). Resends of unacknowledged letters
and replays go through the outbox again, so they reach the stream as new envelopes.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import anyio
import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from ...store.base import Clock, Store, utc_now
from .policy import DeliveryPolicy
from .queue import Letter, claim_due, mark_relayed, resend_overdue
from .settle import settle_all
from .transport import Outcome, Transport

__all__ = ["NatsDelivery", "letter_headers"]

logger = logging.getLogger("bindeled.messaging.delivery")

_RELAY_BATCH = 200


def letter_headers(item: Letter) -> dict[str, str]:
    """The NATS headers that carry a letter's outbox identity (the payload is the Bundle itself)."""
    return {
        "Nats-Msg-Id": item.envelope_id,
        "Bindeled-Seq": str(item.seq),
        "Bindeled-Message-Id": item.message_id,
        "Bindeled-Is-Ack": "1" if item.is_acknowledgement else "0",
        "Bindeled-Message-Type": item.message_type,
        "Bindeled-Sender": item.sender_gln,
        "Bindeled-Receiver": item.receiver_gln,
        "Bindeled-Copies": str(item.copies),
    }


def _letter(msg: Any) -> Letter:
    h = msg.headers or {}
    return Letter(
        seq=int(h["Bindeled-Seq"]),
        message_id=h["Bindeled-Message-Id"],
        is_acknowledgement=h.get("Bindeled-Is-Ack") == "1",
        envelope_id=h["Nats-Msg-Id"],
        message_type=h.get("Bindeled-Message-Type", ""),
        sender_gln=h.get("Bindeled-Sender", ""),
        receiver_gln=h.get("Bindeled-Receiver", ""),
        payload=bytes(msg.data),
        attempts=int(msg.metadata.num_delivered),
        copies=int(h.get("Bindeled-Copies", "1")),
        state="relayed",
    )


class NatsDelivery:
    """The relay and the delivering consumer of one hub process (``async with``, then :meth:`run`)."""

    def __init__(
        self,
        store: Store,
        transport: Transport,
        policy: DeliveryPolicy,
        *,
        url: str,
        stream: str,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.transport = transport
        self.policy = policy
        self.url = url
        self.stream = stream
        self.subject = f"{stream}.letters"
        self.durable = f"{stream}_delivery"
        self.clock = clock
        self._nc: Any = None
        self._js: Any = None

    async def __aenter__(self) -> NatsDelivery:
        self._nc = await nats.connect(self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        self._js = self._nc.jetstream()
        await self._ensure_stream()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self._nc.close()

    async def _ensure_stream(self) -> None:
        config = StreamConfig(
            name=self.stream,
            subjects=[self.subject],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=max(120.0, 2 * self.policy.lease.total_seconds()),
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:
            await self._js.update_stream(config)

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=2 * self.policy.timeout + 5,
            max_deliver=-1,
            max_ack_pending=max(1000, 4 * self.policy.concurrency),
        )

    async def run(self) -> None:
        """Relay and deliver until cancelled."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._relay_forever)
            group.start_soon(self._consume_forever)

    # -- relay: outbox → stream -----------------------------------------------------------------------

    async def relay_once(self) -> int:
        """Publish due outbox letters (after resending overdue ones); returns how many were handled."""
        now = self.clock()
        handled = await resend_overdue(self.store, now, max_resends=self.policy.max_resends)
        letters = await claim_due(self.store, now, limit=_RELAY_BATCH, lease=self.policy.lease)
        published: list[Letter] = []
        try:
            for item in letters:
                await self._js.publish(self.subject, item.payload, headers=letter_headers(item))
                published.append(item)
        finally:
            if published:
                with anyio.CancelScope(shield=True):
                    await mark_relayed(self.store, published)
        return handled + len(letters)

    async def _relay_forever(self) -> None:
        while True:
            try:
                busy = await self.relay_once()
            except Exception:
                logger.exception("outbox relay round failed; trying again")
                busy = 0
            if not busy:
                await anyio.sleep(self.policy.poll)

    # -- consumer: stream → receivers -----------------------------------------------------------------

    async def _consume_forever(self) -> None:
        subscription = None
        while True:
            try:
                if subscription is None:
                    subscription = await self._js.pull_subscribe(
                        self.subject, durable=self.durable, stream=self.stream, config=self.consumer_config()
                    )
                await self.consume_once(subscription)
            except Exception:
                logger.exception("delivery consumer round failed; trying again")
                subscription = None
                await anyio.sleep(self.policy.poll)

    async def consume_once(self, subscription: Any) -> int:
        """Fetch up to ``concurrency`` letters, deliver them side by side, settle them in one transaction.

        The stream messages are acknowledged (or nak'ed, or terminated) only after the outcomes
        committed, so a crash in between makes JetStream deliver them again: at least once.
        """
        try:
            messages = await subscription.fetch(self.policy.concurrency, timeout=max(self.policy.poll, 0.5))
        except (NatsTimeout, TimeoutError):  # nats-py raises either when nothing came
            return 0
        results: list[tuple[Any, Letter, Outcome]] = []
        async with anyio.create_task_group() as group:
            for msg in messages:
                group.start_soon(self._deliver, msg, results)
        settled = [(item, outcome) for _, item, outcome in results]
        decisions = await settle_all(self.store, self.policy, settled, self.clock(), retry_in_database=False)
        for (msg, item, _), decision in zip(results, decisions, strict=True):
            if decision == "delivered":
                await msg.ack()
            elif decision == "retry":
                await msg.nak(delay=self.policy.backoff(item.attempts).total_seconds())
            else:
                await msg.term()
        return len(messages)

    async def _deliver(self, msg: Any, results: list[tuple[Any, Letter, Outcome]]) -> None:
        try:
            item = _letter(msg)
        except (KeyError, ValueError):
            logger.error("a message without the hub's headers was on the delivery stream; dropped")
            await msg.term()
            return
        try:
            outcome = await self.transport.deliver(item)
        except Exception as exc:
            outcome = Outcome("transient", error=f"internal error ({type(exc).__name__})")
        results.append((msg, item, outcome))
