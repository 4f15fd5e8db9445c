"""Use of the overview, counted once: an incrementally maintained aggregate of the audit trail.

Reading the whole hash chain on every page view grows with the chain. Instead each page view first
*catches up*: it reads only the audit records after ``indicator_cursor.last_seq``, adds their overview
requests to ``indicator_overview_use`` (per UTC day and requesting SOR unit) and moves the cursor, in
one transaction. The cursor only moves from the value the counter started from, so two processes
catching up at once never count a record twice (the later one rolls back and finds the work done).
The period's cells then come from one grouped SQL query over the daily counts.

Retention purges only remove records from the front of the chain, which the cursor has passed;
counts already made stay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date

from ..security.audit import AuditRecord
from ..store.base import Store, Transaction
from .overview_use import overview_day, overview_unit

__all__ = ["CURSOR", "OverviewUseAggregate", "RecordSource"]

CURSOR = "overview-use"
RecordSource = Callable[[int, int], Awaitable[list[AuditRecord]]]
"""``records(after_seq, limit)``: audit records after a sequence number, oldest first (the sink's)."""

_ENSURE = "INSERT INTO indicator_cursor (name, last_seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING"
_CURSOR = "SELECT last_seq FROM indicator_cursor WHERE name = $1"
_MOVE = "UPDATE indicator_cursor SET last_seq = $3 WHERE name = $1 AND last_seq = $2 RETURNING last_seq"
_ADD = (
    "INSERT INTO indicator_overview_use (day, unit_sor, requests) VALUES ($1, $2, $3) "
    "ON CONFLICT (day, unit_sor) DO UPDATE SET requests = indicator_overview_use.requests + excluded.requests"
)
_PERIOD = "SELECT unit_sor, SUM(requests) FROM indicator_overview_use WHERE day >= $1 AND day < $2 GROUP BY unit_sor"


class _Raced(Exception):
    """Another process moved the cursor first: roll this batch back."""


def _counted(records: list[AuditRecord]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for record in records:
        event = record.event()
        unit, day = overview_unit(event), overview_day(event)
        if unit is not None and day is not None:
            counts[(day.isoformat(), unit)] += 1
    return counts


class OverviewUseAggregate:
    """The daily counts of overview requests per SOR unit, kept in the store."""

    def __init__(self, store: Store, *, batch: int = 2000) -> None:
        self.store = store
        self.batch = batch

    async def cursor(self) -> int:
        """The last audit sequence number counted."""
        rows = await self.store.fetch_all(_CURSOR, (CURSOR,))
        return int(rows[0][0]) if rows else 0

    async def catch_up(self, records: RecordSource) -> int:
        """Count the records written since the last catch-up; returns how many records were read."""
        async with self.store.transaction() as tx:
            await tx.fetch_all(_ENSURE, (CURSOR,))
        last, read = await self.cursor(), 0
        while True:
            found = await records(last, self.batch)
            if not found:
                return read
            read += len(found)
            if not await self._add(last, found[-1].seq, _counted(found)):
                return read
            last = found[-1].seq
            if len(found) < self.batch:
                return read

    async def _add(self, old: int, new: int, counts: Counter[tuple[str, str]]) -> bool:
        try:
            async with self.store.transaction() as tx:
                await self._write(tx, old, new, counts)
        except _Raced:
            return False
        return True

    @staticmethod
    async def _write(tx: Transaction, old: int, new: int, counts: Counter[tuple[str, str]]) -> None:
        if not await tx.fetch_all(_MOVE, (CURSOR, old, new)):
            raise _Raced()
        for (day, unit), requests in sorted(counts.items()):
            await tx.fetch_all(_ADD, (day, unit, requests))

    async def per_unit(self, period: tuple[date, date]) -> dict[str, int]:
        """Overview requests per requesting SOR unit in ``[start, end)`` (days, UTC)."""
        rows = await self.store.fetch_all(_PERIOD, (period[0].isoformat(), period[1].isoformat()))
        return {str(unit): int(total) for unit, total in rows}
