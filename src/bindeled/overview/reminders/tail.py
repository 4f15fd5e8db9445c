"""Follow the store's Appointment history with a durable high-water mark, without coupling to writers.

Every Appointment write — REST, transactions, APD-DK imports, anyone's — adds a row to
``resource_history``. The tail reads the rows after its mark and hands the changed appointment ids
to the scheduler, which works from each appointment's *current* version (so replays are harmless).

On PostgreSQL ``seq`` numbers are taken at insert time and transactions may commit out of order: a
row with a lower number can appear after a higher one was read. The tail therefore keeps a window:
the persisted mark ``low`` advances only past rows older than ``settle`` (a write transaction is
assumed to commit within that time), rows inside the window are re-read each round and the ones not
yet handled are handled. SQLite commits in ``seq`` order (one writer), so there the mark follows
directly. The mark is shared by all processes (it only moves forward); each process remembers in
memory which rows of the window it has handled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ...store.base import Store
from .model import parse_instant

__all__ = ["CURSOR", "HistoryTail"]

CURSOR = "appointments"
_LOW = "SELECT low FROM reminder_cursor WHERE name = $1"
_NEW = (
    "SELECT seq, res_id, last_updated FROM resource_history WHERE res_type = 'Appointment' AND seq > $1"
    " ORDER BY seq LIMIT $2"
)
_WINDOW = (
    "SELECT seq, res_id, last_updated FROM resource_history WHERE res_type = 'Appointment' AND seq > $1"
    " AND seq <= $2 ORDER BY seq"
)
_INSERT = "INSERT INTO reminder_cursor (name, low) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
_ADVANCE = "UPDATE reminder_cursor SET low = $1 WHERE name = $2 AND low < $1"

Handler = Callable[[Sequence[str]], Awaitable[None]]


@dataclass
class HistoryTail:
    """The Appointment history after the mark, in batches; ``step`` handles one batch and moves on."""

    store: Store
    settle: timedelta = timedelta(seconds=30)
    batch: int = 500
    low: int | None = None
    high: int = 0
    _seen: set[int] = field(default_factory=set)

    async def _load(self) -> int:
        rows = await self.store.fetch_all(_LOW, (CURSOR,))
        if rows:
            return int(rows[0][0])
        async with self.store.transaction() as tx:
            await tx.fetch_all(_INSERT, (CURSOR, 0))
        return 0

    async def step(self, handle: Handler, now: datetime) -> int:
        """Handle the next changes; the number of history rows handled (0: nothing new)."""
        if self.low is None:
            self.low = await self._load()
            self.high = max(self.high, self.low)
        rows = await self.store.fetch_all(_NEW, (self.high, self.batch))
        stragglers = [] if self.store.dialect == "sqlite" else await self._stragglers()
        todo = [r for r in (*stragglers, *rows) if int(r[0]) not in self._seen]
        if todo:
            await handle([str(r[1]) for r in todo])
        self._seen |= {int(r[0]) for r in todo}
        if rows:
            self.high = max(self.high, *(int(r[0]) for r in rows))
        await self._advance(rows, stragglers, now)
        return len(todo)

    async def _stragglers(self) -> list[tuple[Any, ...]]:
        assert self.low is not None
        if self.high <= self.low:
            return []
        return await self.store.fetch_all(_WINDOW, (self.low, self.high))

    async def _advance(self, rows: Sequence[tuple[Any, ...]], window: Sequence[tuple[Any, ...]], now: datetime) -> None:
        assert self.low is not None
        if self.store.dialect == "sqlite":
            mark = self.high
        else:
            cutoff = now - self.settle
            settled = [int(r[0]) for r in (*window, *rows) if parse_instant(r[2]) < cutoff]
            mark = max(settled, default=self.low)
        if mark <= self.low:
            return
        async with self.store.transaction() as tx:
            await tx.fetch_all(_ADVANCE, (mark, CURSOR))
        self.low = mark
        self._seen = {s for s in self._seen if s > mark}
