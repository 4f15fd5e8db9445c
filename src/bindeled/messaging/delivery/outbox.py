"""The database outbox: letters wait here, written in the receiving transaction, until they are delivered.

The receiving side (``$process-message``) stores a message and calls :func:`enqueue` for the letter to
the receiver and for the Acknowledgement to the original sender in one transaction, so a letter is
either received *and* queued, or neither. Everything after the commit (workers, push or mailbox,
retries, resends, dead letters) reads the ``hub_outbox`` table (migration ``0005_message_delivery``).

Each row is one letter, identified by its MessageHeader id (``message_id``) and whether it is an
Acknowledgement; ``envelope_id`` is the Bundle.id of the copy currently on its way and changes when
an unacknowledged letter is sent again. States:

``pending``      waiting for a delivery attempt at ``due`` (a claimed row has ``due`` pushed ahead by
                 its lease, so a crashed worker's letter is tried again when the lease runs out)
``relayed``      published to NATS JetStream, a consumer delivers it (NATS backend only)
``delivered``    handed to the receiver; a letter waits for the receiver's Acknowledgement until
                 ``due`` and is then sent again; an Acknowledgement is finished here
``acknowledged`` the receiver acknowledged the letter
``dead``         given up (fatal error, too many attempts or resends): on the dead-letter list
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ...store._records import format_instant
from ...store.base import Transaction, utc_now
from ..hub.status import Hop, record_hop

__all__ = [
    "ACKNOWLEDGED",
    "DEAD",
    "DELIVERED",
    "PENDING",
    "RELAYED",
    "Outgoing",
    "enqueue",
    "enqueue_all",
    "enqueue_statement",
    "on_receiver_acknowledgement",
]

PENDING = "pending"
RELAYED = "relayed"
DELIVERED = "delivered"
ACKNOWLEDGED = "acknowledged"
DEAD = "dead"

RETRY_RESPONSE_CODES = frozenset({"transient-error"})
"""Acknowledgement codes that leave the letter waiting: it is sent again when the wait runs out."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One letter to hand to a receiver."""

    message_id: str
    """MessageHeader.id of the letter (its identity across resends)."""
    envelope_id: str
    """Bundle.id of this copy."""
    message_type: str
    sender_gln: str
    receiver_gln: str
    payload: bytes
    """The Bundle as FHIR JSON bytes, delivered unchanged."""
    is_acknowledgement: bool


_INSERT_HEAD = """
INSERT INTO hub_outbox (message_id, is_ack, envelope_id, message_type, sender_gln, receiver_gln, payload,
                        state, enqueued, due, attempts, copies, delivered_at, last_delivered, channel,
                        acknowledged_at, last_error)
VALUES """
_INSERT_TAIL = """
ON CONFLICT (message_id, is_ack) DO UPDATE SET state = 'pending', due = excluded.due, attempts = 0
WHERE hub_outbox.is_ack = 1 AND hub_outbox.state = 'delivered'"""


def _insert_sql(rows: int) -> str:
    def group(r: int) -> str:
        n = 9 * r
        values = ", ".join(f"${n + c}" for c in range(1, 8))
        return f"({values}, 'pending', ${n + 8}, ${n + 9}, 0, 1, '', '', '', '', '')"

    # ``enqueued`` and ``due`` are the same instant, bound twice: both backends bind $n once each, in order.
    return _INSERT_HEAD + ", ".join(group(r) for r in range(rows)) + _INSERT_TAIL


_ACKNOWLEDGE = """
UPDATE hub_outbox SET state = 'acknowledged', acknowledged_at = $2
WHERE message_id = $1 AND is_ack = 0 AND state IN ('pending', 'relayed', 'delivered')
RETURNING message_type, sender_gln, receiver_gln"""

_KNOWN = "SELECT message_type, sender_gln, receiver_gln FROM hub_outbox WHERE message_id = $1 AND is_ack = 0"


async def enqueue(tx: Transaction, item: Outgoing, *, at: datetime | None = None) -> None:
    """Put a letter in the database outbox inside the caller's (receiving) transaction.

    Idempotent per letter: queuing a letter that is already queued changes nothing, except that an
    Acknowledgement already delivered is delivered again (MedCom answers a repeated copy with the
    original acknowledgement).
    """
    await enqueue_all(tx, [item], at=at)


async def enqueue_all(tx: Transaction, items: Sequence[Outgoing], *, at: datetime | None = None) -> None:
    """:func:`enqueue` for several letters in one statement (one round trip to the database)."""
    if items:
        await tx.fetch_all(*enqueue_statement(items, at=at))


def enqueue_statement(items: Sequence[Outgoing], *, at: datetime | None = None) -> tuple[str, list[object]]:
    """The statement :func:`enqueue_all` runs, and its parameters (for a caller that sends it with others)."""
    now = format_instant(at or utc_now())
    params: list[object] = []
    for item in items:
        params.extend(
            (
                item.message_id,
                1 if item.is_acknowledgement else 0,
                item.envelope_id,
                item.message_type,
                item.sender_gln,
                item.receiver_gln,
                item.payload,
                now,
                now,
            )
        )
    return _insert_sql(len(items)), params


async def on_receiver_acknowledgement(
    tx: Transaction, acknowledged_message_id: str, response_code: str, *, at: datetime | None = None
) -> None:
    """The receiver acknowledged a letter we delivered: stop resending it and record the hop.

    A ``transient-error`` acknowledgement is recorded but leaves the letter waiting, so it is sent
    again (in a new envelope) when the acknowledgement wait runs out, as MedCom expects of a sender.
    An acknowledgement of a letter the hub never queued (or already settled) changes nothing.
    """
    moment = at or utc_now()
    if response_code in RETRY_RESPONSE_CODES:
        rows = await tx.fetch_all(_KNOWN, (acknowledged_message_id,))
    else:
        params = (acknowledged_message_id, format_instant(moment))
        rows = await tx.fetch_all(_ACKNOWLEDGE, params)
    for message_type, sender_gln, receiver_gln in rows:
        await record_hop(
            tx,
            acknowledged_message_id,
            Hop.RECEIVER_ACKNOWLEDGED,
            message_type=str(message_type),
            sender_gln=str(sender_gln),
            receiver_gln=str(receiver_gln),
            detail=response_code,
            at=moment,
        )
