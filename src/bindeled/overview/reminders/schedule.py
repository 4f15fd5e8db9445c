"""Keep the outbox in step with the appointments: one pending reminder per current, remindable version.

:func:`reconcile` looks at an appointment's *current* version, whatever event led here, so it is
idempotent and order-independent (running it twice, or for an old event after a newer one, changes
nothing): reminders of other versions still pending become ``superseded``; when the appointment is
cancelled, deleted or over, its pending reminders become ``cancelled``; when its citizen subscribes
and the start is ahead, the current version gets a reminder due ``lead time`` before the start (or
its pending one is moved). A version is in the outbox at most once (a unique key), and a reminder
that was claimed for sending is never revived. :func:`affected` picks, from a batch of changed
appointments, the few that need reconciling (a subscribed citizen, or pending reminders).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ...fhir.jsonio import Resource
from ...store.base import Store, StoredResource, Transaction, run_transaction
from ...store.sql_params import placeholders
from .message import reminder_text, wanted_references
from .model import instant

__all__ = ["REMINDABLE_STATUSES", "affected", "patient_of", "reconcile"]

REMINDABLE_STATUSES = frozenset({"booked", "pending", "proposed"})
"""Appointment statuses that still lie ahead of the citizen (cancelled, fulfilled, noshow … do not)."""

_CHUNK = 400

_SUPERSEDE = (
    "UPDATE reminder SET state = 'superseded' WHERE appointment_id = $1 AND state = 'pending'"
    " AND appointment_version <> $2"
)
_CANCEL = "UPDATE reminder SET state = 'cancelled' WHERE appointment_id = $1 AND state = 'pending'"
_LEAD = "SELECT lead_minutes FROM reminder_subscription WHERE patient_id = $1"
_UPSERT = (
    "INSERT INTO reminder (id, appointment_id, appointment_version, patient_id, starts, due, not_before, state,"
    " message) VALUES ($1, $2, $3, $4, $5, $6, $6, 'pending', $7)"
    " ON CONFLICT (appointment_id, appointment_version) DO UPDATE SET state = 'pending', due = excluded.due,"
    " not_before = excluded.not_before, message = excluded.message, patient_id = excluded.patient_id"
    " WHERE reminder.state IN ('pending', 'unsubscribed')"
)


def patient_of(appointment: Resource) -> str | None:
    """The id of the citizen's Patient (the first ``Patient/…`` participant)."""
    for participant in appointment.get("participant", ()):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        reference = str(actor.get("reference", "")) if isinstance(actor, dict) else ""
        if reference.startswith("Patient/") and reference.count("/") == 1:
            return reference.split("/", 1)[1]
    return None


def _start(appointment: Resource) -> datetime | None:
    try:
        start = datetime.fromisoformat(str(appointment.get("start", "")))
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


async def reconcile(store: Store, appointment_id: str, now: datetime) -> None:
    """Bring the reminders of one appointment in line with its current version (see the module doc)."""

    async def work(tx: Transaction) -> None:
        current = await tx.read("Appointment", appointment_id)
        if current is None or current.deleted:
            await tx.fetch_all(_CANCEL, (appointment_id,))
            return
        appointment = current.resource()
        start, patient = _start(appointment), patient_of(appointment)
        if appointment.get("status") not in REMINDABLE_STATUSES or start is None or start <= now or patient is None:
            await tx.fetch_all(_CANCEL, (appointment_id,))
            return
        await tx.fetch_all(_SUPERSEDE, (appointment_id, current.version_id))
        await _schedule(tx, current, appointment, patient, start)

    await run_transaction(store, work)


async def _schedule(
    tx: Transaction, current: StoredResource, appointment: Resource, patient: str, start: datetime
) -> None:
    rows = await tx.fetch_all(_LEAD, (patient,))
    if not rows:
        return
    due = start - timedelta(minutes=int(rows[0][0]))
    text = reminder_text(appointment, *[await _read(tx, ref) for ref in wanted_references(appointment)])
    row = (str(uuid.uuid4()), current.id, current.version_id, patient, instant(start), instant(due), text)
    await tx.fetch_all(_UPSERT, row)


async def _read(tx: Transaction, reference: str | None) -> Resource | None:
    """A register resource (Organization, Location) the reminder text names; None when absent."""
    if reference is None or reference.count("/") != 1:
        return None
    type_, id_ = reference.split("/", 1)
    found = await tx.read(type_, id_)
    return None if found is None or found.deleted else found.resource()


_ANYTHING = "SELECT 1 FROM reminder_subscription UNION ALL SELECT 1 FROM reminder WHERE state = 'pending' LIMIT 1"


async def affected(store: Store, appointment_ids: Sequence[str]) -> list[str]:
    """The appointments among these whose citizen subscribes or that have pending reminders."""
    if not await store.fetch_all(_ANYTHING):
        return []  # nobody subscribes: a bulk load of appointments costs one query per batch
    unique = list(dict.fromkeys(appointment_ids))
    found: set[str] = set()
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        found |= await _with_pending(store, chunk)
        current = await store.read_many([("Appointment", id_) for id_ in chunk])
        patients = {s.id: p for s in current if (p := patient_of(s.resource())) is not None}
        subscribed = await _subscribed(store, sorted(set(patients.values())))
        found |= {id_ for id_, patient in patients.items() if patient in subscribed}
    return [id_ for id_ in unique if id_ in found]


async def _with_pending(store: Store, ids: Sequence[str]) -> set[str]:
    marks = placeholders(len(ids))
    sql = f"SELECT DISTINCT appointment_id FROM reminder WHERE state = 'pending' AND appointment_id IN ({marks})"
    return {str(row[0]) for row in await store.fetch_all(sql, tuple(ids))}


async def _subscribed(store: Store, patients: Sequence[str]) -> set[str]:
    if not patients:
        return set()
    sql = f"SELECT patient_id FROM reminder_subscription WHERE patient_id IN ({placeholders(len(patients))})"
    rows: list[tuple[Any, ...]] = await store.fetch_all(sql, tuple(patients))
    return {str(row[0]) for row in rows}
