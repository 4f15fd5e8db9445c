"""The delivery worker of a hub process, on the backend the settings choose (database outbox or NATS).

Delivery runs in a child process with its own connection to the database: receiving a message
(validation) is CPU work on the server's event loop, and a delivery round that had to wait for every
receipt in progress (or, on a thread, for the interpreter lock) would add seconds to each letter's way;
in a process of its own it also gets the second core. A ``sqlite:///:memory:`` database exists only on
the server's own connection, so there delivery runs on the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import msgspec

from ...config import Settings
from ...logs import configure_logging
from ...store.base import Store
from ...store.factory import open_store
from .policy import DeliveryPolicy
from .transport import Transport
from .worker import OutboxWorker

if TYPE_CHECKING:
    from ...api.services import Services

__all__ = ["delivering", "delivery_worker", "running_delivery"]

logger = logging.getLogger("bindeled.messaging.delivery")


def delivery_worker(services: Services) -> AbstractAsyncContextManager[None]:
    """The server's worker entry (``api/workers.py``): deliver the hub's outbox while the server runs."""
    return running_delivery(services.store, services.settings)


@asynccontextmanager
async def running_delivery(store: Store, settings: Settings) -> AsyncIterator[None]:
    """Deliver the outbox in the background while the block runs; stop cleanly when it ends."""
    if settings.database_url.endswith(":memory:"):
        async with delivering(store, settings):
            yield
        return
    child = _DeliveryProcess(settings)
    child.start()
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(child.stop)


@asynccontextmanager
async def delivering(store: Store, settings: Settings) -> AsyncIterator[None]:
    """Deliver ``store``'s outbox on the current event loop while the block runs."""
    policy = DeliveryPolicy.from_settings(settings)
    transport = Transport(store, timeout=policy.timeout, connections=max(policy.concurrency, 10))
    try:
        async with anyio.create_task_group() as group:
            if settings.delivery_backend == "nats":
                from .nats import NatsDelivery

                nats = NatsDelivery(store, transport, policy, url=settings.nats_url, stream=settings.nats_stream)
                async with nats:
                    group.start_soon(nats.run)
                    yield
                    group.cancel_scope.cancel()
            else:
                group.start_soon(OutboxWorker(store, transport, policy).run)
                yield
                group.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await transport.close()


class _DeliveryProcess:
    """:func:`delivering` in a child process (``python -m bindeled.messaging.delivery.service``).

    The settings go to the child on its standard input, so nothing of them shows in the process list.
    The child stops on SIGTERM, and by itself within a second when its parent dies (even by SIGKILL),
    so a killed server never leaves a delivering orphan behind; letters it had claimed are delivered
    again when their lease runs out.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "bindeled.messaging.delivery.service", str(os.getpid())]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE)
        assert self.process.stdin is not None
        self.process.stdin.write(msgspec.json.encode(self.settings))
        self.process.stdin.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


async def _child(settings: Settings, parent: int) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    store = open_store(settings.database_url, migrate=False)  # the server's store migrated it
    await store.open()
    try:
        async with delivering(store, settings):
            while not stop.is_set() and os.getppid() == parent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
    finally:
        await store.close()


def child_main() -> None:
    """The delivery process: settings (JSON) on standard input, the server's pid as the argument."""
    settings = msgspec.json.decode(sys.stdin.buffer.read(), type=Settings)
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(_child(settings, int(sys.argv[1])))


if __name__ == "__main__":
    child_main()
