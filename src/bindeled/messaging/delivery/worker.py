"""The database-outbox delivery worker: claim due letters, deliver them side by side, settle each.

Each round first sends overdue unacknowledged letters again (new envelope) or gives up on them (at
most once per :data:`RESEND_CHECK` of the clock), then leases up to ``concurrency`` due letters,
delivers them concurrently and writes their outcomes in one transaction. Every hub process may run
one; on PostgreSQL they share the work (``SKIP LOCKED``), on SQLite the single writer serialises claims.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import anyio

from ...store.base import Clock, Store, utc_now
from .policy import DeliveryPolicy
from .queue import Letter, claim_due, resend_overdue
from .settle import settle_all
from .transport import Outcome, Transport

__all__ = ["OutboxWorker"]

logger = logging.getLogger("bindeled.messaging.delivery")

RESEND_CHECK = timedelta(seconds=1)
"""How often a busy worker looks for unacknowledged letters to send again. Acknowledgement waits are
minutes long, so a second's delay is nothing; asking every round would cost each round a query."""


class OutboxWorker:
    """Delivers the outbox of one store until cancelled."""

    def __init__(self, store: Store, transport: Transport, policy: DeliveryPolicy, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.transport = transport
        self.policy = policy
        self.clock = clock
        self._resends_checked: datetime | None = None
        self._full = False

    async def step(self) -> int:
        """One round; returns how many letters it handled (0: nothing was due)."""
        now = self.clock()
        handled = 0
        if self._resends_checked is None or not timedelta(0) <= now - self._resends_checked < RESEND_CHECK:
            self._resends_checked = now
            handled = await resend_overdue(self.store, now, max_resends=self.policy.max_resends)
        # After a full round more letters are most likely due: claim without asking first.
        letters = await claim_due(
            self.store, self.clock(), limit=self.policy.concurrency, lease=self.policy.lease, ask_first=not self._full
        )
        self._full = len(letters) >= self.policy.concurrency
        results: list[tuple[Letter, Outcome]] = []
        async with anyio.create_task_group() as group:
            for item in letters:
                group.start_soon(self._deliver, item, results)
        await settle_all(self.store, self.policy, results, self.clock())
        return handled + len(letters)

    async def _deliver(self, item: Letter, results: list[tuple[Letter, Outcome]]) -> None:
        try:
            outcome = await self.transport.deliver(item)
        except Exception as exc:  # a failed look-up must not stop the other deliveries
            logger.warning("delivery attempt failed unexpectedly", extra={"message_id": item.message_id})
            outcome = Outcome("transient", error=f"internal error ({type(exc).__name__})")
        results.append((item, outcome))

    async def run(self) -> None:
        """Deliver until cancelled; an idle round waits ``poll`` seconds, a failed one logs and waits too."""
        while True:
            try:
                busy = await self.step()
            except Exception:
                logger.exception("delivery round failed; trying again")
                busy = 0
            if not busy:
                await anyio.sleep(self.policy.poll)
