"""The outbox's state changes after the receiving commit: claim, delivered, retry, resend, dead.

Each function is one short transaction on ``hub_outbox`` (see :mod:`.outbox` for the states) and
records the letter's hop in the same transaction, so the "where is my message?" trail says exactly
what was committed. Claims lease a row for a while instead of holding a lock during the (slow)
delivery: a worker that dies leaves its letters to be claimed again when the lease runs out, which
is what makes delivery at-least-once. PostgreSQL claimers skip rows another claimer has locked
(``FOR UPDATE SKIP LOCKED``); SQLite has a single writer, so claims are serial anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...fhir import jsonio
from ...store._records import format_instant
from ...store.base import Store, Transaction, run_transaction
from ...store.sql_params import chunks
from ..hub.status import Hop, HopRecord, record_hop
from . import alerts

__all__ = [
    "Letter",
    "alert",
    "claim_due",
    "dead_in",
    "delivered_all",
    "delivered_in",
    "mark_dead",
    "mark_delivered",
    "mark_relayed",
    "new_envelope",
    "resend_overdue",
    "retry_in",
]

_COLUMNS = (
    "seq, message_id, is_ack, envelope_id, message_type, sender_gln, receiver_gln, payload, attempts, copies, state"
)


@dataclass(frozen=True, slots=True)
class Letter:
    """One outbox row as a worker sees it."""

    seq: int
    message_id: str
    is_acknowledgement: bool
    envelope_id: str
    message_type: str
    sender_gln: str
    receiver_gln: str
    payload: bytes
    attempts: int
    """Tries of the current copy, including the one under way."""
    copies: int
    """Envelopes sent so far (1 for the original)."""
    state: str


def letter(row: tuple[object, ...]) -> Letter:
    """A row of ``_COLUMNS`` as a :class:`Letter`."""
    seq, message_id, is_ack, envelope, kind, sender, receiver, payload, attempts, copies, state = row
    return Letter(
        int(str(seq)),
        str(message_id),
        bool(is_ack),
        str(envelope),
        str(kind),
        str(sender),
        str(receiver),
        bytes(payload),  # type: ignore[call-overload]
        int(str(attempts)),
        int(str(copies)),
        str(state),
    )


async def _run(tx: Transaction, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
    return await tx.fetch_all(sql, params)


async def _hop(tx: Transaction, item: Letter, hop: Hop, now: datetime, detail: str = "") -> None:
    await record_hop(
        tx,
        item.message_id,
        hop,
        message_type=item.message_type,
        sender_gln=item.sender_gln,
        receiver_gln=item.receiver_gln,
        detail=detail,
        at=now,
    )


_CLAIM = f"""
UPDATE hub_outbox SET due = $2, attempts = attempts + 1
WHERE seq IN (SELECT seq FROM hub_outbox WHERE state = 'pending' AND due <= $1 ORDER BY due LIMIT $3{{lock}})
RETURNING {_COLUMNS}"""


_ANY_DUE = "SELECT 1 FROM hub_outbox WHERE state = 'pending' AND due <= $1 LIMIT 1"


async def claim_due(
    store: Store, now: datetime, *, limit: int, lease: timedelta, ask_first: bool = True
) -> list[Letter]:
    """Lease up to ``limit`` pending letters that are due, oldest first; each counts one more attempt.

    A read on committed data first (unless ``ask_first`` is off, when letters are known to wait): when
    nothing is due, no write transaction is opened (on SQLite that would queue behind the receiving
    transactions for the single writer).
    """
    if ask_first and not await store.fetch_all(_ANY_DUE, (format_instant(now),)):
        return []
    lock = " FOR UPDATE SKIP LOCKED" if store.dialect == "postgresql" else ""
    sql = _CLAIM.replace("{lock}", lock)

    async def work(tx: Transaction) -> list[Letter]:
        rows = await _run(tx, sql, (format_instant(now), format_instant(now + lease), limit))
        return sorted((letter(row) for row in rows), key=lambda item: item.seq)

    return await run_transaction(store, work)


async def delivered_in(tx: Transaction, item: Letter, now: datetime, *, channel: str, ack_timeout: timedelta) -> bool:
    """The receiver has the letter: wait for its Acknowledgement until ``now + ack_timeout``.

    A receiver may acknowledge before this is recorded; the acknowledgement then stands. Returns
    False when the row no longer carries this copy (an operator dead-lettered or replayed it).
    """
    hops = await delivered_all(tx, [(item, channel)], now, ack_timeout=ack_timeout)
    for hop in hops:
        await _hop(tx, item, hop.hop, now, hop.detail)
    return bool(hops)


_DELIVERED_MANY = """
UPDATE hub_outbox SET
    state = CASE WHEN state IN ('pending', 'relayed') THEN 'delivered' ELSE state END,
    due = CASE WHEN state IN ('pending', 'relayed') THEN $2 ELSE due END,
    delivered_at = CASE WHEN delivered_at = '' THEN $1 ELSE delivered_at END,
    last_delivered = $1, channel = $3, last_error = ''
WHERE state <> 'dead' AND seq IN ({rows}) AND (seq, envelope_id) IN ({copies})
RETURNING seq"""


def _delivered_sql(rows: int) -> str:
    """:data:`_DELIVERED_MANY` for ``rows`` (row, envelope) pairs, ``$4, $5, …`` after the three shared parameters.

    The plain ``seq IN (…)`` lets SQLite find the rows by key (it scans the table for the pairs alone).
    """
    seqs = [f"${4 + 2 * r}" for r in range(rows)]
    pairs = ", ".join(f"(CAST({seq} AS BIGINT), ${5 + 2 * r})" for r, seq in enumerate(seqs))
    return _DELIVERED_MANY.format(rows=", ".join(seqs), copies="VALUES " + pairs)


async def delivered_all(
    tx: Transaction, items: Sequence[tuple[Letter, str]], now: datetime, *, ack_timeout: timedelta
) -> list[HopRecord]:
    """:func:`delivered_in` for many ``(letter, channel)`` pairs: one statement per channel and chunk.

    Returns the delivered hops of the rows that still carried their copy, in the order given, for the
    caller to record (with :func:`~bindeled.messaging.hub.status.record_hops`) in the same transaction.
    """
    shared = (format_instant(now), format_instant(now + ack_timeout))
    updated: set[int] = set()
    for channel in dict.fromkeys(channel for _, channel in items):
        same = [item for item, used in items if used == channel]
        for chunk in chunks(same):
            params = [*shared, channel, *(value for item in chunk for value in (item.seq, item.envelope_id))]
            rows = await tx.fetch_all(_delivered_sql(len(chunk)), params)
            updated.update(int(str(row[0])) for row in rows)
    return [
        HopRecord(
            item.message_id,
            Hop.DELIVERED,
            item.message_type,
            item.sender_gln,
            item.receiver_gln,
            f"{channel} envelope {item.envelope_id}",
            now,
        )
        for item, channel in items
        if item.seq in updated
    ]


async def mark_delivered(store: Store, item: Letter, now: datetime, *, channel: str, ack_timeout: timedelta) -> bool:
    """:func:`delivered_in`, in a transaction of its own."""

    async def work(tx: Transaction) -> bool:
        return await delivered_in(tx, item, now, channel=channel, ack_timeout=ack_timeout)

    return await run_transaction(store, work)


_RELAYED = "UPDATE hub_outbox SET state = 'relayed' WHERE seq = $1 AND envelope_id = $2 AND state = 'pending'"


async def mark_relayed(store: Store, items: list[Letter]) -> None:
    """The letters are safely in the NATS stream; its consumers deliver them from now on."""

    async def work(tx: Transaction) -> None:
        for item in items:
            await _run(tx, _RELAYED, (item.seq, item.envelope_id))

    await run_transaction(store, work)


_RETRY = """
UPDATE hub_outbox SET state = 'pending', due = $2, last_error = $3
WHERE seq = $1 AND envelope_id = $4 AND state IN ('pending', 'relayed')"""


async def retry_in(tx: Transaction, item: Letter, now: datetime, *, delay: timedelta, error: str) -> None:
    """A transient error: try the same copy again after ``delay``."""
    await _run(tx, _RETRY, (item.seq, format_instant(now + delay), error[:500], item.envelope_id))


_DEAD = """
UPDATE hub_outbox SET state = 'dead', last_error = $2, due = $3
WHERE seq = $1 AND state IN ('pending', 'relayed', 'delivered')
RETURNING seq"""


async def dead_in(tx: Transaction, item: Letter, now: datetime, reason: str) -> bool:
    """Dead-letter the row in ``tx``; the caller raises the alert once the transaction committed."""
    if not await _run(tx, _DEAD, (item.seq, reason[:500], format_instant(now))):
        return False
    await _hop(tx, item, Hop.FAILED, now, reason[:500])
    await _hop(tx, item, Hop.DEAD_LETTERED, now)
    return True


def alert(item: Letter, reason: str) -> None:
    """Raise the failure alert (after the dead-lettering committed)."""
    alerts.delivery_failed(item.message_id, item.message_type, item.sender_gln, item.receiver_gln, reason)


async def mark_dead(store: Store, item: Letter, now: datetime, *, reason: str) -> None:
    """Give up on a letter: mark it failed, raise the alert and put it on the dead-letter list."""

    async def work(tx: Transaction) -> bool:
        return await dead_in(tx, item, now, reason)

    if await run_transaction(store, work):
        alert(item, reason)


def new_envelope(payload: bytes, envelope_id: str) -> bytes:
    """The same letter in a new envelope: only ``Bundle.id`` changes (MessageHeader.id stays)."""
    bundle = jsonio.decode_stored(payload)
    bundle["id"] = envelope_id
    return jsonio.encode(bundle)


_OVERDUE = f"""
SELECT {_COLUMNS} FROM hub_outbox WHERE state = 'delivered' AND is_ack = 0 AND due <= $1 ORDER BY due LIMIT $2"""
_ANY_OVERDUE = "SELECT 1 FROM hub_outbox WHERE state = 'delivered' AND is_ack = 0 AND due <= $1 LIMIT 1"
_RESEND = """
UPDATE hub_outbox SET state = 'pending', envelope_id = $2, payload = $3, due = $4, attempts = 0, copies = copies + 1
WHERE seq = $1 AND state = 'delivered'
RETURNING seq"""


async def resend_overdue(store: Store, now: datetime, *, max_resends: int, limit: int = 100) -> int:
    """Send unacknowledged letters again in a new envelope, or give up on those resent too often.

    Returns how many letters were resent or dead-lettered.
    """

    if not await store.fetch_all(_ANY_OVERDUE, (format_instant(now),)):
        return 0
    failed: list[tuple[Letter, str]] = []

    async def work(tx: Transaction) -> int:
        failed.clear()
        rows = await _run(tx, _OVERDUE, (format_instant(now), limit))
        for item in map(letter, rows):
            if item.copies > max_resends:
                reason = f"no acknowledgement after {item.copies} envelopes"
                if await dead_in(tx, item, now, reason):
                    failed.append((item, reason))
                continue
            envelope = str(uuid.uuid4())
            params = (item.seq, envelope, new_envelope(item.payload, envelope), format_instant(now))
            if await _run(tx, _RESEND, params):
                await _hop(tx, item, Hop.RESENT, now, f"envelope {envelope} replaces {item.envelope_id}")
        return len(rows)

    count = await run_transaction(store, work)
    for item, reason in failed:
        alert(item, reason)
    return count
