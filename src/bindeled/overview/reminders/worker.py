"""The reminder worker: one loop per server process that schedules from the history and sends what is due.

Each round: expire lapsed claims, follow the Appointment history (:class:`~.tail.HistoryTail`) and
reconcile the appointments that matter (:mod:`.schedule`), then claim and send due reminders
(:class:`~.dispatch.Dispatcher`). Several processes may run it against one database: the history mark
only moves forward, scheduling is idempotent and claims are exclusive. A failing round is logged and
the next one starts after the poll interval.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ...config import Settings
from ...store.base import Store, utc_now
from .dispatch import Dispatcher
from .outbox import expire_claims
from .schedule import affected, reconcile
from .senders import FileSender, HttpSender, ReminderSender
from .tail import HistoryTail

if TYPE_CHECKING:
    from ...api.services import Services

__all__ = ["ReminderWorker", "reminder_worker", "sender_from"]

log = logging.getLogger("bindeled.reminders")


def sender_from(settings: Settings) -> ReminderSender:
    """The sender the settings name: the file sender under ``data_dir/reminders`` or the HTTP gateway."""
    if settings.reminder_sender == "http":
        return HttpSender(
            settings.reminder_gateway_url,
            timeout=settings.reminder_gateway_timeout_seconds,
            retries=settings.reminder_gateway_retries,
        )
    return FileSender(Path(settings.data_dir) / "reminders")


@dataclass
class ReminderWorker:
    """One process's reminder work; :meth:`step` is one round (tests drive it with their own clock)."""

    store: Store
    sender: ReminderSender
    name: str
    lease: timedelta = timedelta(minutes=10)
    settle: timedelta = timedelta(seconds=30)
    max_attempts: int = 5
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        self.tail = HistoryTail(self.store, settle=self.settle)
        self.dispatcher = Dispatcher(self.store, self.sender, self.name, max_attempts=self.max_attempts)

    async def schedule(self) -> int:
        """Follow the history until nothing new is left; how many history rows were handled."""
        now = self.clock()

        async def handle(ids: Sequence[str]) -> None:
            for appointment_id in await affected(self.store, ids):
                try:
                    await reconcile(self.store, appointment_id, now)
                except Exception:  # one unreadable appointment must not hold up all the others
                    log.exception("reminder scheduling failed", extra={"appointment_id": appointment_id})

        total = 0
        while handled := await self.tail.step(handle, now):
            total += handled
        return total

    async def step(self) -> int:
        """One round: expire lapsed claims, schedule, send due reminders; how many were claimed."""
        await expire_claims(self.store, self.clock(), self.lease)
        await self.schedule()
        sent = 0
        while claimed := await self.dispatcher.step(self.clock()):
            sent += claimed
        return sent


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def reminder_worker(services: Services) -> AsyncIterator[None]:
    """The server's reminder loop (``api/workers.py``); off with ``reminders_enabled = false``."""
    settings = services.settings
    if not settings.reminders_enabled:
        yield
        return
    worker = ReminderWorker(
        services.store,
        sender_from(settings),
        _worker_name(),
        lease=timedelta(seconds=settings.reminder_claim_lease_seconds),
        settle=timedelta(seconds=settings.reminder_settle_seconds),
        max_attempts=settings.reminder_max_attempts,
    )

    async def loop() -> None:
        while True:
            try:
                await worker.step()
            except Exception:
                log.exception("reminder round failed")
            await anyio.sleep(settings.reminder_poll_seconds)

    async with anyio.create_task_group() as group:
        group.start_soon(loop)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
