"""The reminder outbox's state transitions; a claim is committed before anything is sent.

``pending`` → ``sending`` is the claim: one UPDATE, committed, naming the worker. Only the claimant
moves its rows on (``sent``, back to ``pending`` after a transient failure, ``failed``, or
``superseded``/``cancelled``/``unsubscribed`` when the reminder turned stale). A claim that outlives
its lease (the process died mid-send) becomes ``unknown`` and is never sent again: at most once.
On PostgreSQL concurrent claimers skip each other's rows (``FOR UPDATE SKIP LOCKED``); SQLite has
one writer at a time (``BEGIN IMMEDIATE``), so its claims are serialised anyway.

Placeholders (``$n``) appear in number order in every statement: SQLite numbers named parameters by
first appearance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...store.base import Store
from .model import ReminderRow, instant

__all__ = ["Claimed", "claim", "expire_claims", "finish", "release", "reminders_of"]

_CLAIM_SELECT = (
    "SELECT id FROM reminder WHERE state = 'pending' AND due <= $2 AND not_before <= $2 ORDER BY due LIMIT $3"
)
_CLAIM = (
    "UPDATE reminder SET state = 'sending', claimed_by = $1, claimed_at = $2, attempts = attempts + 1"
    " WHERE state = 'pending' AND id IN ({select})"
    " RETURNING id, appointment_id, appointment_version, patient_id, message, attempts"
)
_FINISH = (
    "UPDATE reminder SET state = $1, sent_at = $2, detail = $3 WHERE id = $4 AND state = 'sending' AND claimed_by = $5"
)
_RELEASE = (
    "UPDATE reminder SET state = 'pending', not_before = $1, detail = $2, claimed_by = NULL"
    " WHERE id = $3 AND state = 'sending' AND claimed_by = $4"
)
_EXPIRE = "UPDATE reminder SET state = 'unknown', detail = 'claim lapsed' WHERE state = 'sending' AND claimed_at < $1"
_ANY_DUE = "SELECT 1 FROM reminder WHERE state = 'pending' AND due <= $1 AND not_before <= $1 LIMIT 1"
_ANY_LAPSED = "SELECT 1 FROM reminder WHERE state = 'sending' AND claimed_at < $1 LIMIT 1"
_OF_PATIENT = (
    "SELECT id, appointment_id, appointment_version, due, state FROM reminder WHERE patient_id = $1"
    " ORDER BY due, appointment_id, appointment_version"
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A reminder this worker has claimed and must now send (or settle)."""

    id: str
    appointment_id: str
    appointment_version: int
    patient_id: str
    text: str
    attempts: int


async def claim(store: Store, worker: str, now: datetime, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due reminders for ``worker``; committed when this returns."""
    if not await store.fetch_all(_ANY_DUE, (instant(now),)):
        return []  # the common case, answered by a reader without taking the write lock
    select = _CLAIM_SELECT + (" FOR UPDATE SKIP LOCKED" if store.dialect == "postgresql" else "")
    async with store.transaction() as tx:
        rows = await tx.fetch_all(_CLAIM.format(select=select), (worker, instant(now), limit))
    return [Claimed(str(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4]), int(r[5])) for r in rows]


async def finish(store: Store, reminder: Claimed, worker: str, state: str, now: datetime, detail: str = "") -> None:
    """Settle a claimed reminder: ``sent``, ``failed``, ``superseded``, ``cancelled`` or ``unsubscribed``."""
    sent_at = instant(now) if state == "sent" else None
    async with store.transaction() as tx:
        await tx.fetch_all(_FINISH, (state, sent_at, detail[:200], reminder.id, worker))


async def release(store: Store, reminder: Claimed, worker: str, retry_at: datetime, detail: str) -> None:
    """Give a claimed reminder back after a transient failure, to be tried again from ``retry_at``."""
    async with store.transaction() as tx:
        await tx.fetch_all(_RELEASE, (instant(retry_at), detail[:200], reminder.id, worker))


async def expire_claims(store: Store, now: datetime, lease: timedelta) -> None:
    """Claims older than the lease: their sender may or may not have sent; never send them again."""
    cutoff = instant(now - lease)
    if not await store.fetch_all(_ANY_LAPSED, (cutoff,)):
        return
    async with store.transaction() as tx:
        await tx.fetch_all(_EXPIRE, (cutoff,))


async def reminders_of(store: Store, patient_id: str) -> list[ReminderRow]:
    """Every outbox row of one citizen, by due time."""
    rows: list[tuple[Any, ...]] = await store.fetch_all(_OF_PATIENT, (patient_id,))
    return [ReminderRow(str(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in rows]
