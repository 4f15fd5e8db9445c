"""Write-behind for the audit records of requests that change nothing (reads, searches, refusals).

Writing a read's AuditEvent and MinLog entries synchronously costs a database transaction per read,
about as much as the read itself. :class:`WriteBehindAuditSink` wraps the SQL sink: records that come
with a store transaction (writes) are still written inside it, so a change and its audit trail commit
together; records without one are queued in memory and written in batches, one transaction per batch,
by a worker (:func:`audit_writer`, started in the server's lifespan) at most ``max_delay`` after the
first one was queued. When ``limit`` records wait, the request that adds the next one writes the batch
itself before it answers (back-pressure, so the queue cannot grow without bound). Everything that reads
the audit trail or MinLog through the sink flushes first, and stopping the worker flushes the rest.

The hash chain stays intact: records are linked to the chain head when they are written, under the
same lock as synchronous appends, so the chain order is the write order.

**What a crash can lose, and why that is acceptable.** A process killed without a clean shutdown
(SIGKILL, power loss) loses the queued records: at most ``limit`` requests' AuditEvents and MinLog
entries, all of requests that read or were refused, from the last ``max_delay``. MinLog is a legal
record, so this is a deliberate trade: no data change can ever lose its record (writes stay
synchronous), reads can lose theirs only in that crash window, which is bounded in time and size
and set by ``audit_write_behind_ms`` (``0`` makes every record synchronous again, for deployments
that must not lose a read's entry under any failure). A flush that fails (database unavailable) puts
the batch back at the head of the queue and is retried; nothing is dropped while the process lives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime

from ..fhir.jsonio import Resource
from ..store.base import Store, Transaction
from .audit import AuditRecord, ChainState
from .audit_store import QueuedRecords, SqlAuditSink
from .minlog import MinLogEntry
from .pending import PendingAccess
from .sinks import AuditSink, PurgeCounts

__all__ = ["WriteBehindAuditSink", "audit_sink_for", "settle"]

log = logging.getLogger("bindeled.security")


class WriteBehindAuditSink:
    """An :class:`~.sinks.AuditSink` that queues records without a transaction and writes them in batches."""

    def __init__(self, inner: SqlAuditSink, *, max_delay: float, limit: int) -> None:
        if max_delay <= 0 or limit < 1:
            raise ValueError("write-behind needs a positive delay and limit")
        self.inner = inner
        self.max_delay = max_delay
        self.limit = limit
        self._queue: list[QueuedRecords] = []
        # Made when the worker starts, in its event loop (a sink may outlive one loop, e.g. in tests).
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._running = False

    @property
    def queued(self) -> int:
        """Requests whose records wait to be written."""
        return len(self._queue)

    async def append(
        self,
        events: Sequence[Resource],
        minlog: Sequence[MinLogEntry],
        *,
        recorded: datetime,
        tx: Transaction | None = None,
        pending: Sequence[PendingAccess] = (),
    ) -> list[AuditRecord]:
        """Write inside ``tx`` now; else queue (written synchronously while no worker runs)."""
        if tx is not None or not self._running:
            return await self.inner.append(events, minlog, recorded=recorded, tx=tx, pending=pending)
        self._queue.append(QueuedRecords(events, minlog, recorded, pending))
        if len(self._queue) >= self.limit:
            await self.flush()
        elif self._wake is not None:
            self._wake.set()
        return []

    async def flush(self) -> None:
        """Write everything queued so far, in one transaction; on failure keep it queued and raise."""
        if self._lock is None:  # no worker: nothing is ever queued
            return
        async with self._lock:  # also waits for a batch the worker is writing right now
            batch, self._queue = self._queue, []
            if not batch:
                return
            try:
                await self.inner.append_batch(batch)
            except BaseException:
                self._queue[:0] = batch
                raise

    async def _run(self, wake: asyncio.Event) -> None:
        """The worker loop: after the first record of a batch arrives, wait ``max_delay``, then write."""
        while True:
            await wake.wait()
            await asyncio.sleep(self.max_delay)
            wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("writing queued audit records failed; they stay queued", extra={"queued": self.queued})
                wake.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Queue while inside; on leaving, stop the worker and write what is left."""
        self._lock, self._wake = asyncio.Lock(), asyncio.Event()
        task = asyncio.create_task(self._run(self._wake), name="audit-write-behind")
        self._running = True
        try:
            yield
        finally:
            self._running = False
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await self.flush()
            self._wake = None

    # Reads of the trail see everything this process has recorded.

    async def chain_state(self) -> ChainState:
        await self.flush()
        return await self.inner.chain_state()

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        await self.flush()
        return await self.inner.records(after_seq, limit)

    async def minlog(self, citizen: str, *, since: datetime | None = None) -> list[MinLogEntry]:
        await self.flush()
        return await self.inner.minlog(citizen, since=since)

    async def purge(self, *, audit_before: datetime | None, minlog_before: datetime | None) -> PurgeCounts:
        await self.flush()
        return await self.inner.purge(audit_before=audit_before, minlog_before=minlog_before)


async def settle(sink: AuditSink) -> None:
    """Write whatever a write-behind sink holds (before reading tables it writes, e.g. pending flags)."""
    if isinstance(sink, WriteBehindAuditSink):
        await sink.flush()


def audit_sink_for(store: Store, *, write_behind_ms: int, queue_limit: int) -> AuditSink:
    """The SQL sink, behind a write-behind queue unless ``write_behind_ms`` is 0."""
    sql = SqlAuditSink(store)
    if write_behind_ms <= 0:
        return sql
    return WriteBehindAuditSink(sql, max_delay=write_behind_ms / 1000, limit=queue_limit)
