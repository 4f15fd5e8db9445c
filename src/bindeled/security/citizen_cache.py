"""Patient reference → CPR number, remembered per process, so the policy needs no store read per request.

The policy decides by citizen (CPR number), but data names its citizen by a reference
(``Patient/123``): without this cache every read and search of a citizen's data would read the
Patient too. A cached answer must never be stale in a way that matters (a Patient whose CPR number
changed would otherwise be judged under the old citizen's blocks), so:

* every write of a Patient through the repository (REST, transactions, the hub, the lab intake, the
  demo loader: :meth:`CitizenCache.write_rule`) forgets that Patient *before* its transaction commits
  and keeps it out of the cache for :attr:`CitizenCache.settle_seconds` (longer than any transaction),
  so a read that raced the write cannot put the old number back;
* an answer read from the store is kept only if no Patient write began while it was being read
  (a generation counter);
* only found Patients are kept (a missing one may be created with that id);
* every entry is dropped after :attr:`CitizenCache.max_age` seconds whatever happened: the backstop
  for writes this process cannot see.

**Several processes.** Processes sharing one database do not see each other's writes, so each server
follows the Patient versions written lately (:mod:`.citizen_cache_follow`, every
``citizen_cache_follow_seconds``) and forgets them; ``max_age`` stays as the backstop.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..fhir.jsonio import Resource
from ..store.repository import PendingWrite

__all__ = ["CitizenCache"]

_PRUNE_UNSETTLED = 10_000
"""Past this many recently written Patients, the settled ones are dropped from the list."""


@dataclass
class CitizenCache:
    """``Patient/<id>`` → the Patient's CPR number (None: a Patient without one)."""

    size: int = 100_000
    max_age: float = 300.0
    settle_seconds: float = 120.0
    clock: Callable[[], float] = field(default=time.monotonic)
    generation: int = field(default=0, init=False)
    """Bumped by every Patient write: an answer read across a write is not kept."""
    _entries: OrderedDict[str, tuple[str | None, float]] = field(default_factory=OrderedDict, init=False, repr=False)
    _unsettled: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def get(self, ref: str) -> tuple[bool, str | None]:
        """``(known, cpr)``; unknown when never read, forgotten or too old."""
        found = self._entries.get(ref)
        if found is None:
            return False, None
        cpr, stored = found
        if self.clock() - stored > self.max_age:
            del self._entries[ref]
            return False, None
        self._entries.move_to_end(ref)
        return True, cpr

    def put(self, ref: str, cpr: str | None, generation: int) -> None:
        """Keep a Patient's number read from the store when the read began at ``generation``."""
        if self.size <= 0 or generation != self.generation:
            return
        now = self.clock()
        until = self._unsettled.get(ref)
        if until is not None:
            if now < until:
                return
            del self._unsettled[ref]
        self._entries[ref] = (cpr, now)
        self._entries.move_to_end(ref)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, ref: str) -> None:
        """A Patient is being written (or was written elsewhere): drop it and keep it out for a while."""
        self.generation += 1
        self._entries.pop(ref, None)
        now = self.clock()
        self._unsettled[ref] = now + self.settle_seconds
        if len(self._unsettled) > _PRUNE_UNSETTLED:
            self._unsettled = {r: t for r, t in self._unsettled.items() if t > now}

    def forget_all(self) -> None:
        """Too many Patients were written elsewhere to name them: drop everything (reads fill it again)."""
        self.generation += 1
        self._entries.clear()

    async def write_rule(self, pending: PendingWrite) -> Resource | None:
        """A repository write rule (``Repository.write_rules``): forget a Patient before it is written."""
        if pending.resource_type == "Patient":
            for version in (pending.before, pending.after):
                if version is not None and isinstance(version.get("id"), str):
                    self.forget(f"Patient/{version['id']}")
        return None
