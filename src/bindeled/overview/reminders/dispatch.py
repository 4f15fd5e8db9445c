"""Send what is due: claim, check the reminder is still right, send, settle.

Between scheduling and sending an appointment may have changed or the citizen may have unsubscribed;
a claimed reminder is therefore checked against the appointment's current version and the current
subscription just before it goes out, and settled as ``superseded``, ``cancelled`` or
``unsubscribed`` instead of being sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ...store.base import Store
from .model import OutgoingReminder
from .outbox import Claimed, claim, finish, release
from .schedule import REMINDABLE_STATUSES
from .senders import PermanentSendError, ReminderSender, TransientSendError
from .subscriptions import subscription_of

__all__ = ["Dispatcher"]


@dataclass(frozen=True)
class Dispatcher:
    """Sends due reminders for one worker (``name`` is what its claims carry)."""

    store: Store
    sender: ReminderSender
    name: str
    batch: int = 50
    max_attempts: int = 5
    retry_after: timedelta = timedelta(minutes=1)

    async def step(self, now: datetime) -> int:
        """Claim and settle one batch of due reminders; how many were claimed."""
        claimed = await claim(self.store, self.name, now, self.batch)
        for reminder in claimed:
            await self._deliver(reminder, now)
        return len(claimed)

    async def _stale(self, reminder: Claimed) -> str | None:
        current = await self.store.read("Appointment", reminder.appointment_id)
        if current is None or current.deleted:
            return "cancelled"
        if current.resource().get("status") not in REMINDABLE_STATUSES:
            return "cancelled"
        if current.version_id != reminder.appointment_version:
            return "superseded"
        return None

    async def _deliver(self, reminder: Claimed, now: datetime) -> None:
        stale = await self._stale(reminder)
        if stale is not None:
            await finish(self.store, reminder, self.name, stale, now)
            return
        subscription = await subscription_of(self.store, reminder.patient_id)
        if subscription is None:
            await finish(self.store, reminder, self.name, "unsubscribed", now)
            return
        outgoing = OutgoingReminder(reminder.id, subscription.channel, subscription.address, reminder.text)
        try:
            await self.sender.send(outgoing)
        except TransientSendError as exc:
            if reminder.attempts >= self.max_attempts:
                await finish(self.store, reminder, self.name, "failed", now, str(exc))
            else:
                wait = self.retry_after * 2 ** (reminder.attempts - 1)
                await release(self.store, reminder, self.name, now + wait, str(exc))
            return
        except PermanentSendError as exc:
            await finish(self.store, reminder, self.name, "failed", now, str(exc))
            return
        await finish(self.store, reminder, self.name, "sent", now)
