"""Where audit records and MinLog entries are kept: the :class:`AuditSink` Protocol and an in-memory sink.

The SQL sink (``audit_store.py``) writes inside the store transaction of the data change it
records, so a write and its audit trail commit or roll back together; the in-memory sink serves
tests and benchmarks. Both are proved by one contract suite (``tests/security/test_sinks.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ..fhir.jsonio import Resource
from ..store.base import Transaction
from .audit import AuditRecord, ChainState, ChainVerifier, VerifyResult, format_instant, link
from .minlog import MINLOG_RETENTION, MinLogEntry
from .pending import PendingAccess

__all__ = ["AUDIT_RETENTION", "AuditSink", "InMemoryAuditSink", "PurgeCounts", "purge_expired", "verify_chain"]


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """How many records a retention purge removed."""

    audit_records: int
    minlog_entries: int


class AuditSink(Protocol):
    """Append-only storage for the audit chain and MinLog."""

    async def append(
        self,
        events: Sequence[Resource],
        minlog: Sequence[MinLogEntry],
        *,
        recorded: datetime,
        tx: Transaction | None = None,
        pending: Sequence[PendingAccess] = (),
    ) -> list[AuditRecord]:
        """Chain ``events`` after the current head and store them with ``minlog`` and the pending-verification
        flags; inside ``tx`` when given."""
        ...

    async def chain_state(self) -> ChainState:
        """The chain's anchor and head."""
        ...

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        """Records with ``seq > after_seq``, in sequence order."""
        ...

    async def minlog(self, citizen: str, *, since: datetime | None = None) -> list[MinLogEntry]:
        """A citizen's entries, oldest first."""
        ...

    async def purge(self, *, audit_before: datetime | None, minlog_before: datetime | None) -> PurgeCounts:
        """Delete audit records and MinLog entries older than the cut-offs (the retention job)."""
        ...


class InMemoryAuditSink:
    """An :class:`AuditSink` in a list; ``tx`` is ignored."""

    def __init__(self) -> None:
        self.chain: list[AuditRecord] = []
        self.entries: list[MinLogEntry] = []
        self.pending: list[PendingAccess] = []
        self.state = ChainState()

    async def append(
        self,
        events: Sequence[Resource],
        minlog: Sequence[MinLogEntry],
        *,
        recorded: datetime,
        tx: Transaction | None = None,
        pending: Sequence[PendingAccess] = (),
    ) -> list[AuditRecord]:
        added: list[AuditRecord] = []
        seq, prev = self.state.head_seq, self.state.head_hash
        for event in events:
            record = link(seq, prev, event, recorded)
            added.append(record)
            seq, prev = record.seq, record.hash
        self.chain.extend(added)
        self.entries.extend(minlog)
        self.pending.extend(pending)
        self.state = ChainState(self.state.anchor_seq, self.state.anchor_hash, seq, prev)
        return added

    async def chain_state(self) -> ChainState:
        return self.state

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        return [r for r in self.chain if r.seq > after_seq][:limit]

    async def minlog(self, citizen: str, *, since: datetime | None = None) -> list[MinLogEntry]:
        return [e for e in self.entries if e.citizen == citizen and (since is None or e.time >= since)]

    async def purge(self, *, audit_before: datetime | None, minlog_before: datetime | None) -> PurgeCounts:
        removed = 0
        if audit_before is not None:
            cutoff = format_instant(audit_before)
            old = [r for r in self.chain if r.recorded < cutoff]
            if old:
                last = max(old, key=lambda r: r.seq)
                removed = sum(1 for r in self.chain if r.seq <= last.seq)
                self.chain = [r for r in self.chain if r.seq > last.seq]
                self.state = ChainState(last.seq, last.hash, self.state.head_seq, self.state.head_hash)
        kept = [e for e in self.entries if minlog_before is None or e.time >= minlog_before]
        purged, self.entries = len(self.entries) - len(kept), kept
        return PurgeCounts(removed, purged)


async def verify_chain(sink: AuditSink, *, page: int = 1000) -> VerifyResult:
    """Walk the whole stored chain (``bindeled audit verify``) and report the first bad record.

    The chain is checked up to the head read at the start: records appended while the walk runs
    (a live server keeps auditing) belong to the next check, not to this one.
    """
    verifier = ChainVerifier(await sink.chain_state())
    after, head = verifier.state.anchor_seq, verifier.state.head_seq
    while True:
        fetched = await sink.records(after, page)
        batch = [record for record in fetched if record.seq <= head]
        failure = verifier.feed(batch)
        if failure is not None:
            return failure
        if len(fetched) < page or len(batch) < len(fetched):
            return verifier.finish()
        after = batch[-1].seq


AUDIT_RETENTION = timedelta(days=183)
"""How long operator audit records are kept by default (six months; up to five years by configuration)."""


async def purge_expired(
    sink: AuditSink,
    now: datetime,
    *,
    minlog_retention: timedelta = MINLOG_RETENTION,
    audit_retention: timedelta = AUDIT_RETENTION,
) -> PurgeCounts:
    """The retention job: drop MinLog entries and audit records older than their retention periods."""
    return await sink.purge(audit_before=now - audit_retention, minlog_before=now - minlog_retention)
