"""The database-outbox delivery worker: claim due letters, deliver them side by side, settle each.

Each round first sends overdue unacknowledged letters again (new envelope) or gives up on them, then
leases up to ``concurrency`` due letters, delivers them concurrently and writes their outcomes in one
transaction. Every hub process may run
one; on PostgreSQL they share the work (``SKIP LOCKED``), on SQLite the single writer serialises claims.
"""

from __future__ import annotations

import logging

import anyio

from ...store.base import Clock, Store, utc_now
from .policy import DeliveryPolicy
from .queue import Letter, claim_due, resend_overdue
from .settle import settle_all
from .transport import Outcome, Transport

__all__ = ["OutboxWorker"]

logger = logging.getLogger("bindeled.messaging.delivery")


class OutboxWorker:
    """Delivers the outbox of one store until cancelled."""

    def __init__(self, store: Store, transport: Transport, policy: DeliveryPolicy, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.transport = transport
        self.policy = policy
        self.clock = clock

    async def step(self) -> int:
        """One round; returns how many letters it handled (0: nothing was due)."""
        handled = await resend_overdue(self.store, self.clock(), max_resends=self.policy.max_resends)
        letters = await claim_due(self.store, self.clock(), limit=self.policy.concurrency, lease=self.policy.lease)
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
