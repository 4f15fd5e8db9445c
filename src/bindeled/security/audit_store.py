"""The SQL :class:`~.sinks.AuditSink`: the audit chain and MinLog in the store's own database.

Appends run inside the caller's store transaction when one is given, so a data change, its MinLog
entries and its AuditEvent commit or roll back together; refused requests (which change nothing)
get a transaction of their own. The chain head lives in one row of ``audit_chain_state``; each
append reads it ``FOR UPDATE`` on PostgreSQL (SQLite has a single writer anyway), so concurrent
appends queue up behind each other and the chain never forks.

Writes go through :meth:`Transaction.fetch_all`, which runs any statement on both backends (the
Protocol calls it a read; an ``execute`` method would say what is meant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from ..fhir.jsonio import Resource
from ..store.base import Store, Transaction
from ..store.sql_params import chunks, values_clause
from .audit import GENESIS_HASH, AuditRecord, ChainState, format_instant, link
from .minlog import MinLogEntry
from .pending import PendingAccess, write_pending
from .sinks import PurgeCounts

__all__ = ["QueuedRecords", "SqlAuditSink"]

_STATE = "SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM audit_chain_state WHERE id = 1"
_INIT_STATE = (
    "INSERT INTO audit_chain_state (id, anchor_seq, anchor_hash, head_seq, head_hash)"
    " VALUES (1, 0, $1, 0, $1) ON CONFLICT (id) DO NOTHING"
)
_INSERT_RECORDS = "INSERT INTO audit_chain (seq, recorded, prev_hash, hash, body) VALUES "
_SET_HEAD = "UPDATE audit_chain_state SET head_seq = $1, head_hash = $2 WHERE id = 1"
_SET_ANCHOR = "UPDATE audit_chain_state SET anchor_seq = $1, anchor_hash = $2 WHERE id = 1"
_INSERT_MINLOG = "INSERT INTO minlog (citizen, time, correlation_id, body) VALUES "
_RECORDS = "SELECT seq, recorded, prev_hash, hash, body FROM audit_chain WHERE seq > $1 ORDER BY seq LIMIT $2"
_LAST_OLD = "SELECT seq, hash FROM audit_chain WHERE recorded < $1 ORDER BY seq DESC LIMIT 1"


@dataclass(frozen=True, slots=True)
class QueuedRecords:
    """One request's audit records, waiting to be written (see ``audit_queue.py``)."""

    events: Sequence[Resource]
    minlog: Sequence[MinLogEntry]
    recorded: datetime
    pending: Sequence[PendingAccess] = ()


def _state(row: tuple[object, ...]) -> ChainState:
    anchor_seq, anchor_hash, head_seq, head_hash = row
    return ChainState(int(str(anchor_seq)), str(anchor_hash), int(str(head_seq)), str(head_hash))


class SqlAuditSink:
    """An :class:`~.sinks.AuditSink` on a :class:`~bindeled.store.base.Store` (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = " FOR UPDATE" if store.dialect == "postgresql" else ""

    async def append(
        self,
        events: Sequence[Resource],
        minlog: Sequence[MinLogEntry],
        *,
        recorded: datetime,
        tx: Transaction | None = None,
        pending: Sequence[PendingAccess] = (),
    ) -> list[AuditRecord]:
        timed = [(event, recorded) for event in events]
        if tx is not None:
            return await self._append(tx, timed, minlog, pending)
        async with self.store.transaction() as own:
            return await self._append(own, timed, minlog, pending)

    async def append_batch(self, batch: Sequence[QueuedRecords]) -> None:
        """Store many requests' records in one transaction, each chained with its own time (write-behind)."""
        events = [(event, item.recorded) for item in batch for event in item.events]
        minlog = [entry for item in batch for entry in item.minlog]
        pending = [flag for item in batch for flag in item.pending]
        async with self.store.transaction() as tx:
            await self._append(tx, events, minlog, pending)

    async def _append(
        self,
        tx: Transaction,
        events: Sequence[tuple[Resource, datetime]],
        minlog: Sequence[MinLogEntry],
        pending: Sequence[PendingAccess] = (),
    ) -> list[AuditRecord]:
        added: list[AuditRecord] = []
        if events:
            state = await self._locked_state(tx)
            seq, prev = state.head_seq, state.head_hash
            for event, recorded in events:
                record = link(seq, prev, event, recorded)
                added.append(record)
                seq, prev = record.seq, record.hash
            for chunk in chunks(added):
                params = [v for r in chunk for v in (r.seq, r.recorded, r.prev_hash, r.hash, r.body)]
                await tx.fetch_all(_INSERT_RECORDS + values_clause(len(chunk), 5), params)
            await tx.fetch_all(_SET_HEAD, (seq, prev))
        for entries in chunks(minlog):
            params = [
                value
                for e in entries
                for value in (e.citizen, format_instant(e.time), e.correlation_id, msgspec.json.encode(e))
            ]
            await tx.fetch_all(_INSERT_MINLOG + values_clause(len(entries), 4), params)
        await write_pending(tx, pending)
        return added

    async def _locked_state(self, tx: Transaction) -> ChainState:
        """The chain state, locked until commit; (re)created empty if the row is gone (tables emptied by hand)."""
        rows = await tx.fetch_all(_STATE + self._lock)
        if not rows:
            await tx.fetch_all(_INIT_STATE, (GENESIS_HASH,))
            rows = await tx.fetch_all(_STATE + self._lock)
        return _state(rows[0])

    async def chain_state(self) -> ChainState:
        rows = await self.store.fetch_all(_STATE)
        return _state(rows[0]) if rows else ChainState()

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        rows = await self.store.fetch_all(_RECORDS, (after_seq, limit))
        return [AuditRecord(int(s), str(r), str(p), str(h), bytes(b)) for s, r, p, h, b in rows]

    async def minlog(self, citizen: str, *, since: datetime | None = None) -> list[MinLogEntry]:
        sql, params = "SELECT body FROM minlog WHERE citizen = $1", [citizen]
        if since is not None:
            sql, params = sql + " AND time >= $2", [citizen, format_instant(since)]
        rows = await self.store.fetch_all(sql + " ORDER BY time, id", params)
        return [msgspec.json.decode(bytes(body), type=MinLogEntry) for (body,) in rows]

    async def purge(self, *, audit_before: datetime | None, minlog_before: datetime | None) -> PurgeCounts:
        async with self.store.transaction() as tx:
            records = 0 if audit_before is None else await self._purge_chain(tx, format_instant(audit_before))
            entries = 0
            if minlog_before is not None:
                cutoff = format_instant(minlog_before)
                entries = int((await tx.fetch_all("SELECT COUNT(*) FROM minlog WHERE time < $1", (cutoff,)))[0][0])
                await tx.fetch_all("DELETE FROM minlog WHERE time < $1", (cutoff,))
        return PurgeCounts(records, entries)

    async def _purge_chain(self, tx: Transaction, cutoff: str) -> int:
        """Delete the oldest records, up to the last one recorded before ``cutoff``, and move the anchor there."""
        state = await self._locked_state(tx)
        last = await tx.fetch_all(_LAST_OLD, (cutoff,))
        if not last:
            return 0
        seq, hash_ = int(last[0][0]), str(last[0][1])
        count = await tx.fetch_all("SELECT COUNT(*) FROM audit_chain WHERE seq <= $1", (seq,))
        await tx.fetch_all("DELETE FROM audit_chain WHERE seq <= $1", (seq,))
        if seq > state.anchor_seq:
            await tx.fetch_all(_SET_ANCHOR, (seq, hash_))
        return int(count[0][0])
