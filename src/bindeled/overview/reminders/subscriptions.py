"""A citizen's reminder subscription: stored, changed and removed, with the outbox kept in step.

Subscribing (or changing the lead time) reschedules the citizen's coming appointments at once;
unsubscribing settles their pending reminders as ``unsubscribed``. Who set it up is kept as user
type and id (``citizen:…``, ``proxy:…``), never as a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from ...store.guard import as_system
from ...store.repository import Repository
from .model import CHANNELS, Channel, Subscription, instant
from .schedule import reconcile

__all__ = ["Fetcher", "subscribe", "subscription_of", "unsubscribe"]

_GET = "SELECT patient_id, channel, address, lead_minutes FROM reminder_subscription WHERE patient_id = $1"
_UPSERT = (
    "INSERT INTO reminder_subscription (patient_id, channel, address, lead_minutes, set_by, updated)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (patient_id) DO UPDATE SET channel = excluded.channel,"
    " address = excluded.address, lead_minutes = excluded.lead_minutes, set_by = excluded.set_by,"
    " updated = excluded.updated"
)
_DELETE = "DELETE FROM reminder_subscription WHERE patient_id = $1 RETURNING patient_id"
_UNSUBSCRIBED = "UPDATE reminder SET state = 'unsubscribed' WHERE patient_id = $1 AND state = 'pending'"
_PAGE = 200


class Fetcher(Protocol):
    """A store or an open transaction: something that runs a query."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


async def subscription_of(store: Fetcher, patient_id: str) -> Subscription | None:
    """The citizen's subscription, if any."""
    rows = await store.fetch_all(_GET, (patient_id,))
    if not rows or rows[0][1] not in CHANNELS:
        return None
    patient, channel, address, lead = rows[0]
    return Subscription(str(patient), cast(Channel, channel), str(address), int(lead))


async def subscribe(repo: Repository, subscription: Subscription, set_by: str, now: datetime) -> None:
    """Store (or replace) the subscription, then schedule the citizen's coming appointments."""
    row = (
        subscription.patient_id,
        subscription.channel,
        subscription.address,
        subscription.lead_minutes,
        set_by,
        instant(now),
    )
    async with repo.store.transaction() as tx:
        await tx.fetch_all(_UPSERT, row)
    for appointment_id in await _coming_appointments(repo, subscription.patient_id, now):
        await reconcile(repo.store, appointment_id, now)


async def unsubscribe(repo: Repository, patient_id: str) -> bool:
    """Remove the subscription; False when there was none."""
    async with repo.store.transaction() as tx:
        removed = await tx.fetch_all(_DELETE, (patient_id,))
        await tx.fetch_all(_UNSUBSCRIBED, (patient_id,))
    return bool(removed)


async def _coming_appointments(repo: Repository, patient_id: str, now: datetime) -> list[str]:
    """The ids of the citizen's appointments that start after ``now`` (a trusted internal search)."""
    found: list[str] = []
    offset = 0
    while True:
        params = [
            ("patient", f"Patient/{patient_id}"),
            ("date", f"ge{now.isoformat(timespec='seconds')}"),
            ("_count", str(_PAGE)),
            ("_offset", str(offset)),
        ]
        with as_system():
            _request, result = await repo.search("Appointment", params)
        found += [stored.id for stored in result.resources]
        if result.next_offset is None:
            return found
        offset = result.next_offset
