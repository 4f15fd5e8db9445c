"""The :class:`ResultSink` on the FHIR store: every version kept, the current one as FHIR resources.

One message is one store transaction (:meth:`StoreSink.store_all`): each result's version is added to
``lab_result_version`` (immutable; all versions stay for audit and "as of" counts), the message is
remembered in ``lab_message``, and when the version outranks every stored version of its key
(:func:`~bindeled.lab.corrections.decide`) the current view is written: the Patient found by CPR
(created when there is none), and the Specimen, DiagnosticReport and Observations under the key's
stable ids (:mod:`bindeled.lab.current_view`), so a correction is a new FHIR version of the same
resources and an Observation the correction dropped is deleted. A late or lower-ranked version is only
kept as history. A redelivered message finds its versions stored and changes nothing.

Concurrent deliveries of the same key serialise: PostgreSQL takes a transaction-scoped advisory lock
per key (in key order, so two messages never wait on each other crosswise); SQLite has one writer.
The sink is trusted internal work: it runs as the system (``as_system``); whoever hands it results
(the MLLP listener, file intake, an authorised REST caller) was checked at the edge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from bindeled.lab._rows import (
    QUARANTINE_COLUMNS,
    VERSION_COLUMNS,
    instant,
    quarantine_from_row,
    quarantine_row,
    version_from_row,
    version_row,
)
from bindeled.lab.corrections import Outcome, decide, sort_key
from bindeled.lab.current_view import current_ids, current_resources
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, MappedResult, ResultKey
from bindeled.lab.quarantine import QuarantineRecord, QuarantineStatus
from bindeled.lab.sink import version_of
from bindeled.store.base import Clock, Transaction, run_transaction, utc_now
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository

__all__ = ["StoreSink"]

_VERSIONS = (
    f"SELECT {VERSION_COLUMNS} FROM lab_result_version"
    " WHERE laboratory = $1 AND sample_number = $2 AND analysis = $3 ORDER BY received, control_id"
)
_INSERT_VERSION = f"INSERT INTO lab_result_version ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
_INSERT_MESSAGE = (
    "INSERT INTO lab_message (laboratory, control_id, received) VALUES ($1, $2, $3)"
    " ON CONFLICT (laboratory, control_id) DO NOTHING"
)
_SEEN = "SELECT 1 FROM lab_message WHERE laboratory = $1 AND control_id = $2"
_INSERT_QUARANTINE = f"INSERT INTO lab_quarantine ({QUARANTINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
_UPDATE_QUARANTINE = (
    "UPDATE lab_quarantine SET received = $1, source = $2, control_id = $3, status = $4, attempts = $5,"
    " error = $6, raw = $7 WHERE id = $8"
)
"""Placeholders in order of appearance: SQLite numbers ``$n`` by where they first appear."""
_QUARANTINE = f"SELECT {QUARANTINE_COLUMNS} FROM lab_quarantine"


class StoreSink:
    """Lab results into the store behind ``repo`` (SQLite or PostgreSQL)."""

    def __init__(self, repo: Repository, *, now: Clock = utc_now) -> None:
        self.repo = repo
        self.backend = repo.store
        self.now = now

    # -- results -----------------------------------------------------------------------------------

    async def store(self, result: MappedResult) -> Outcome:
        return (await self.store_all([result]))[0]

    async def store_all(self, results: Sequence[MappedResult]) -> list[Outcome]:
        """Store the results of one message in one transaction; one outcome per result."""
        with as_system():
            return await run_transaction(self.backend, lambda tx: self._store_all(tx, results))

    async def _store_all(self, tx: Transaction, results: Sequence[MappedResult]) -> list[Outcome]:
        received = self.now()
        await self._lock(tx, sorted({result.key for result in results}))
        outcomes = [await self._store_one(tx, result, received) for result in results]
        for laboratory, control_id in sorted({(r.key.laboratory, r.control_id) for r in results}):
            await tx.fetch_all(_INSERT_MESSAGE, (laboratory, control_id, instant(received)))
        return outcomes

    async def _lock(self, tx: Transaction, keys: list[ResultKey]) -> None:
        if self.backend.dialect != "postgresql":
            return
        for key in keys:
            text = f"lab|{key.laboratory}|{key.sample_number}|{key.analysis}"
            number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)
            await tx.fetch_all("SELECT pg_advisory_xact_lock($1)", [number])

    async def _store_one(self, tx: Transaction, result: MappedResult, received: datetime) -> Outcome:
        stored = await self._versions(tx, result.key)
        seen = any(version.control_id == result.control_id for version in stored)
        previous = max(stored, key=lambda v: sort_key(version_of(v)), default=None)
        outcome = decide(version_of(previous) if previous else None, version_of(result), seen)
        if outcome is Outcome.DUPLICATE:
            return outcome
        await tx.fetch_all(_INSERT_VERSION, version_row(result, received, outcome.value))
        if outcome is Outcome.CURRENT:
            await self._write_current(tx, result, previous)
        return outcome

    async def _versions(self, tx: Transaction, key: ResultKey) -> list[MappedResult]:
        rows = await tx.fetch_all(_VERSIONS, (key.laboratory, key.sample_number, key.analysis))
        return [version_from_row(row) for row in rows]

    async def _write_current(self, tx: Transaction, result: MappedResult, previous: MappedResult | None) -> None:
        patient_id = await self._patient_id(tx, result)
        for body in current_resources(result, patient_id):
            await self.repo.update_in(tx, str(body["resourceType"]), str(body["id"]), body)
        if previous is None:
            return
        stale = set(current_ids(previous).values()) - set(current_ids(result).values())
        for reference in sorted(stale):
            kind, id_ = reference.split("/", 1)
            await self.repo.delete_in(tx, kind, id_)

    async def _patient_id(self, tx: Transaction, result: MappedResult) -> str:
        """The stored Patient with the result's CPR number; created from the message when there is none."""
        found = await self.repo.matches(tx, "Patient", f"identifier={CPR_SYSTEM}|{result.cpr}")
        if found:
            return found[0].id
        created = await self.repo.create_in(tx, "Patient", result.patient)
        return created.stored.id

    async def current(self, key: ResultKey) -> MappedResult | None:
        versions = await self.versions(key)
        return max(versions, key=lambda v: sort_key(version_of(v)), default=None)

    async def versions(self, key: ResultKey) -> list[MappedResult]:
        rows = await self.backend.fetch_all(_VERSIONS, (key.laboratory, key.sample_number, key.analysis))
        return [version_from_row(row) for row in rows]

    async def seen(self, laboratory: str, control_id: str) -> bool:
        return bool(await self.backend.fetch_all(_SEEN, (laboratory, control_id)))

    # -- quarantine --------------------------------------------------------------------------------

    async def quarantine(self, record: QuarantineRecord) -> None:
        async with self.backend.transaction() as tx:
            await tx.fetch_all(_INSERT_QUARANTINE, quarantine_row(record))

    async def quarantined(self, status: QuarantineStatus | None) -> list[QuarantineRecord]:
        if status is None:
            rows = await self.backend.fetch_all(f"{_QUARANTINE} ORDER BY received, id")
        else:
            rows = await self.backend.fetch_all(
                f"{_QUARANTINE} WHERE status = $1 ORDER BY received, id", (status.value,)
            )
        return [quarantine_from_row(row) for row in rows]

    async def quarantine_record(self, record_id: str) -> QuarantineRecord | None:
        rows = await self.backend.fetch_all(f"{_QUARANTINE} WHERE id = $1", (record_id,))
        return quarantine_from_row(rows[0]) if rows else None

    async def update_quarantine(self, record: QuarantineRecord) -> None:
        async with self.backend.transaction() as tx:
            row = quarantine_row(record)
            await tx.fetch_all(_UPDATE_QUARANTINE, (*row[1:], row[0]))
