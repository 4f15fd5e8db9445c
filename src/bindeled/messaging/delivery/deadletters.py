"""The dead-letter list: letters the hub gave up on, for an operator to inspect and replay.

A replay sends the unchanged letter again in a new envelope (new Bundle.id, same MessageHeader id)
with a fresh budget of attempts and resends, and records the ``replayed`` hop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ...store._records import format_instant, parse_instant
from ...store.base import Store, Transaction, run_transaction
from ..hub.status import Hop, record_hop
from .queue import new_envelope

__all__ = ["DeadLetter", "dead_letters", "replay"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One letter on the dead-letter list (without its content)."""

    message_id: str
    is_acknowledgement: bool
    envelope_id: str
    message_type: str
    sender_gln: str
    receiver_gln: str
    enqueued: datetime
    failed: datetime
    attempts: int
    copies: int
    reason: str


_LIST = """
SELECT message_id, is_ack, envelope_id, message_type, sender_gln, receiver_gln, enqueued, due, attempts, copies,
       last_error
FROM hub_outbox WHERE state = 'dead' ORDER BY due, seq LIMIT $1 OFFSET $2"""


async def dead_letters(store: Store, *, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
    """The dead letters, the earliest failure first."""
    rows = await store.fetch_all(_LIST, (limit, offset))
    return [
        DeadLetter(
            str(r[0]),
            bool(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            str(r[5]),
            parse_instant(str(r[6])),
            parse_instant(str(r[7])),
            int(str(r[8])),
            int(str(r[9])),
            str(r[10]),
        )
        for r in rows
    ]


_FIND = """
SELECT seq, payload, message_type, sender_gln, receiver_gln FROM hub_outbox
WHERE message_id = $1 AND is_ack = $2 AND state = 'dead'"""
_REPLAY = """
UPDATE hub_outbox SET state = 'pending', envelope_id = $2, payload = $3, due = $4, attempts = 0, copies = 1,
                      last_error = ''
WHERE seq = $1"""


async def replay(store: Store, message_id: str, *, is_acknowledgement: bool, now: datetime, operator: str) -> bool:
    """Queue a dead letter again in a new envelope; False when no such dead letter exists."""

    async def work(tx: Transaction) -> bool:
        rows = await tx.fetch_all(_FIND, (message_id, 1 if is_acknowledgement else 0))
        if not rows:
            return False
        seq, payload, message_type, sender, receiver = rows[0]
        envelope = str(uuid.uuid4())
        params = (seq, envelope, new_envelope(bytes(payload), envelope), format_instant(now))
        await tx.fetch_all(_REPLAY, params)
        await record_hop(
            tx,
            message_id,
            Hop.REPLAYED,
            message_type=str(message_type),
            sender_gln=str(sender),
            receiver_gln=str(receiver),
            detail=f"by {operator}, envelope {envelope}",
            at=now,
        )
        return True

    return await run_transaction(store, work)
