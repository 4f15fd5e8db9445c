"""Where intake hands mapped results: the :class:`ResultSink` Protocol and an in-memory implementation.

The store-backed sink is :class:`~bindeled.lab.store_sink.StoreSink`; :class:`MemorySink` is the
reference behaviour that the library tests use. A sink must make :meth:`ResultSink.store` atomic per :class:`ResultKey`
(a transaction or a lock): it records the version and decides, with :func:`corrections.decide`, whether
it becomes the current one, so two deliveries racing on two connections cannot both become current.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from bindeled.lab.corrections import Outcome, Version, decide
from bindeled.lab.hl7v2.oru_r01 import MappedResult, ResultKey
from bindeled.lab.quarantine import QuarantineRecord, QuarantineStatus

__all__ = ["MemorySink", "ResultSink", "version_of"]


def version_of(result: MappedResult) -> Version:
    return Version(result.status, result.message_time, result.control_id)


class ResultSink(Protocol):
    """The storage side of lab intake."""

    async def store(self, result: MappedResult) -> Outcome:
        """Keep ``result`` as a version of its key and return whether it became current.

        Must be atomic per key, and idempotent: a result whose (key, control id) is already stored
        returns :attr:`Outcome.DUPLICATE` and stores nothing.
        """
        ...

    async def store_all(self, results: Sequence[MappedResult]) -> list[Outcome]:
        """Store the results of one message together (one transaction); one outcome per result."""
        ...

    async def current(self, key: ResultKey) -> MappedResult | None:
        """The current version of ``key`` (None when nothing was stored)."""
        ...

    async def versions(self, key: ResultKey) -> list[MappedResult]:
        """Every stored version of ``key`` in arrival order."""
        ...

    async def seen(self, laboratory: str, control_id: str) -> bool:
        """Whether a message with this control id from this laboratory was already accepted."""
        ...

    async def quarantine(self, record: QuarantineRecord) -> None:
        """Keep a message that could not be accepted."""
        ...

    async def quarantined(self, status: QuarantineStatus | None) -> list[QuarantineRecord]:
        """Quarantined records with ``status`` (all when None)."""
        ...

    async def quarantine_record(self, record_id: str) -> QuarantineRecord | None: ...

    async def update_quarantine(self, record: QuarantineRecord) -> None:
        """Replace a record (same id) after a replay or a discard."""
        ...


class MemorySink:
    """A :class:`ResultSink` in memory, for tests and the demo."""

    def __init__(self) -> None:
        self._versions: dict[ResultKey, list[MappedResult]] = {}
        self._current: dict[ResultKey, MappedResult] = {}
        self._seen: set[tuple[str, str]] = set()
        self._quarantine: dict[str, QuarantineRecord] = {}
        self._lock = asyncio.Lock()

    async def store(self, result: MappedResult) -> Outcome:
        async with self._lock:
            versions = self._versions.setdefault(result.key, [])
            seen = any(v.control_id == result.control_id for v in versions)
            current = self._current.get(result.key)
            outcome = decide(version_of(current) if current else None, version_of(result), seen)
            if outcome is not Outcome.DUPLICATE:
                versions.append(result)
                self._seen.add((result.key.laboratory, result.control_id))
            if outcome is Outcome.CURRENT:
                self._current[result.key] = result
            return outcome

    async def store_all(self, results: Sequence[MappedResult]) -> list[Outcome]:
        return [await self.store(result) for result in results]

    async def current(self, key: ResultKey) -> MappedResult | None:
        return self._current.get(key)

    async def versions(self, key: ResultKey) -> list[MappedResult]:
        return list(self._versions.get(key, []))

    async def seen(self, laboratory: str, control_id: str) -> bool:
        return (laboratory, control_id) in self._seen

    async def quarantine(self, record: QuarantineRecord) -> None:
        self._quarantine[record.id] = record

    async def quarantined(self, status: QuarantineStatus | None) -> list[QuarantineRecord]:
        return [r for r in self._quarantine.values() if status is None or r.status is status]

    async def quarantine_record(self, record_id: str) -> QuarantineRecord | None:
        return self._quarantine.get(record_id)

    async def update_quarantine(self, record: QuarantineRecord) -> None:
        self._quarantine[record.id] = record

    def result_keys(self) -> list[ResultKey]:
        """Every key with at least one version (for tests and the demo)."""
        return sorted(self._versions)
