"""Background work that lives as long as the server: each feature adds one entry to :func:`workers`.

A worker is a function from the process's :class:`~bindeled.api.services.Services` to an async
context manager: entering starts the work (a listener, a delivery loop), leaving stops it cleanly.
They are entered in list order after the store opens and left in reverse order before it closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .services import Services

__all__ = ["Worker", "background_task", "running_workers", "workers"]

Worker = Callable[["Services"], AbstractAsyncContextManager[None]]


def workers() -> list[Worker]:
    """Every feature's background worker, in start order: each feature adds its import and entry here."""
    from ..messaging.delivery.service import delivery_worker

    found: list[Worker] = []
    from .operations.registers import audit_writer, citizen_cache_follower, register_refresher, stored_clients

    # The audit writer stops last: it writes the others' records.
    found += [audit_writer, stored_clients, register_refresher, citizen_cache_follower]
    found.append(delivery_worker)
    from .operations.lab import file_intake_worker, mllp_worker

    found += [mllp_worker, file_intake_worker]
    from .subscriptions import subscription_worker

    found.append(subscription_worker)
    from ..overview.reminders.worker import reminder_worker

    found.append(reminder_worker)
    from ..indicators.worker import overview_use_counter

    found.append(overview_use_counter)
    return found


@asynccontextmanager
async def running_workers(services: Services) -> AsyncIterator[None]:
    """Start every worker; stop them all (the last started first), even when one fails to start."""
    async with AsyncExitStack() as stack:
        for worker in workers():
            await stack.enter_async_context(worker(services))
        yield


@asynccontextmanager
async def background_task(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run ``work`` as a task while the block runs; cancel it and wait for it to end when the block is left."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
