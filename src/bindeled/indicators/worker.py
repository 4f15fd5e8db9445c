"""The server worker that keeps the overview-use aggregate caught up with the audit trail.

A page view catches up too (so it always counts everything up to that moment), but on a long chain
the first catch-up after an upgrade reads every record once; this worker does that work in the
background from start-up and every :data:`CATCH_UP_SECONDS` afterwards, so page views only ever
read the few records written since. Two processes doing it at once never count a record twice
(``overview_use_store``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ..api.workers import background_task
from .overview_use_store import OverviewUseAggregate

if TYPE_CHECKING:
    from ..api.services import Services

__all__ = ["CATCH_UP_SECONDS", "overview_use_counter"]

CATCH_UP_SECONDS = 60.0

log = logging.getLogger("bindeled.indicators")


@asynccontextmanager
async def overview_use_counter(svc: Services) -> AsyncIterator[None]:
    """Count new audit records into the aggregate now and every minute while the server runs."""
    gate = svc.gate
    if gate is None:
        yield
        return
    aggregate = OverviewUseAggregate(svc.store)

    async def loop() -> None:
        while True:
            try:
                await aggregate.catch_up(gate.sink.records)
            except Exception:
                log.exception("counting the overview use failed; the next page view or round tries again")
            await asyncio.sleep(CATCH_UP_SECONDS)

    async with background_task(loop(), "overview-use-counter"):
        yield
