"""Forget Patients that other processes wrote, so a process's CPR cache follows the shared database.

:class:`~.citizen_cache.CitizenCache` forgets a Patient when its own process writes it. Several server
processes on one database (PostgreSQL behind a load balancer, or ``bindeled serve`` beside a loader)
do not see each other's writes, so each process reads the Patient versions written lately — one
indexed query on the history table, the same on both backends — and forgets each new version once.
A forgotten Patient stays out of the cache for ``settle_seconds``, so a read that raced the commit
cannot put the old number back. The window looked back over is ``settle_seconds`` too: a transaction
that takes longer than that is already outside the cache's promise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..store.base import HistoryQuery, Store
from .citizen_cache import CitizenCache

__all__ = ["PatientWriteFollower"]

MAX_VERSIONS = 10_000
"""Patient versions read per round; more than that (a bulk load) and the whole cache is dropped instead."""


class PatientWriteFollower:
    """Reads the Patient versions written lately and makes ``cache`` forget each one the first time it is seen."""

    def __init__(self, store: Store, cache: CitizenCache) -> None:
        self.store = store
        self.cache = cache
        self._seen: dict[tuple[str, int], datetime] = {}

    async def poll(self) -> int:
        """One round; how many Patient versions were forgotten."""
        now = datetime.now(UTC)
        window = timedelta(seconds=self.cache.settle_seconds)
        since = now - window
        versions = await self.store.history(HistoryQuery(resource_type="Patient", since=since, count=MAX_VERSIONS))
        forgotten = 0
        if len(versions) >= MAX_VERSIONS:
            self.cache.forget_all()
            forgotten = len(versions)
        for stored in versions:
            key = (stored.id, stored.version_id)
            if key in self._seen:
                continue
            self._seen[key] = stored.last_updated
            if len(versions) < MAX_VERSIONS:
                self.cache.forget(f"Patient/{stored.id}")
                forgotten += 1
        self._seen = {key: at for key, at in self._seen.items() if at >= since}
        return forgotten
