"""Many lab messages at once into a store that holds no lab results yet: the demo's region-sized stream.

The intake path (:class:`~bindeled.lab.store_sink.StoreSink`) stores one message per transaction and
rewrites the current view each time a version supersedes another: a few dozen milliseconds a message,
an hour for a region. :func:`bulk_store_er7` reaches the same end state in bulk:

* every message is parsed and mapped exactly as the intake maps it (optionally in worker processes);
* the versions are decided in memory with the intake's own rule (:func:`~bindeled.lab.corrections.decide`,
  against the highest version of the key so far) and written to ``lab_result_version`` and ``lab_message``
  in multi-row inserts;
* only the last current version of each key becomes FHIR resources — the same current view
  (:func:`~bindeled.lab.current_view.current_resources`) the intake leaves behind — written through the
  store's bulk load (:func:`bindeled.store.bulk.bulk_load`) as version 1.

Search, read and the lab tables then answer as after the intake path; what differs is the FHIR history
(one version instead of the succession of current versions, and no tombstones for Observations a
correction dropped) and that, as with every bulk load, nothing is validated or audited. Patients are
linked by CPR number: through ``patients`` when the caller knows them, else found or created one by
one through the repository, as the intake does. A failure leaves what was written so far.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from bindeled.errors import Conflict
from bindeled.fhir.jsonio import Resource
from bindeled.lab._rows import VERSION_COLUMNS, instant, version_from_row, version_row
from bindeled.lab.corrections import Outcome, Version, decide
from bindeled.lab.current_view import current_resources
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, MappedResult, ResultKey, map_oru_r01
from bindeled.store.base import Clock, utc_now
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.store.sql_params import chunks, values_clause

__all__ = ["Adjust", "BulkLabResult", "bulk_store_er7"]

Adjust = Callable[[MappedResult], MappedResult]
"""A change to every mapped result before it is stored (the demo tags them SYNTHETIC); module-level for workers."""

_MESSAGES_PER_CHUNK = 250
"""Messages a worker parses and maps per task."""
_ROWS_PER_FLUSH = 2000
"""Lab-table rows collected before they are written in one transaction."""
_VERSION_WIDTH = len(VERSION_COLUMNS.split(","))
_MESSAGE_COLUMNS = "laboratory, control_id, received"


@dataclass
class BulkLabResult:
    """What :func:`bulk_store_er7` stored (outcomes counted per result, as the intake counts them)."""

    messages: int = 0
    current: int = 0
    history: int = 0
    duplicates: int = 0
    resources: int = 0
    """FHIR resources of the current view written."""
    patients_created: int = 0


@dataclass(frozen=True, slots=True)
class _Arrival:
    """One mapped result as its ``lab_result_version`` row; received and outcome are filled in on arrival."""

    key: ResultKey
    version: Version
    cpr: str
    row: tuple[Any, ...]


@dataclass
class _Key:
    """What the decision for the next version of a key needs, and the row of its current version."""

    best: Version
    current_row: tuple[Any, ...]
    control_ids: set[str] = field(default_factory=set)


_NOT_YET = datetime(1970, 1, 1, tzinfo=UTC)
"""The received instant in a row before it arrives."""


def _arrivals(text: str, adjust: Adjust | None) -> list[_Arrival]:
    """Parse and map one message as the intake does."""
    out = []
    for result in map_oru_r01(er7.parse(text)).results:
        mapped = adjust(result) if adjust is not None else result
        version = Version(mapped.status, mapped.message_time, mapped.control_id)
        out.append(_Arrival(mapped.key, version, mapped.cpr, version_row(mapped, _NOT_YET, "")))
    return out


def _map_chunk(texts: list[str], adjust: Adjust | None) -> list[list[_Arrival]]:
    return [_arrivals(text, adjust) for text in texts]


async def _mapped(texts: Iterator[str], adjust: Adjust | None, workers: int) -> AsyncIterator[list[_Arrival]]:
    """Each message's arrivals in input order; with ``workers`` the parsing runs in forked processes."""
    if workers <= 0:
        for text in texts:
            yield _arrivals(text, adjust)
        return
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[asyncio.Future[list[list[_Arrival]]]] = deque()
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) <= workers:
                chunk = list(islice(texts, _MESSAGES_PER_CHUNK))
                if chunk:
                    pending.append(loop.run_in_executor(pool, _map_chunk, chunk, adjust))
                else:
                    exhausted = True
            if pending:
                for arrivals in await pending.popleft():
                    yield arrivals


class _LabTables:
    """Rows for ``lab_result_version`` and ``lab_message``, written in multi-row inserts."""

    def __init__(self, repo: Repository) -> None:
        self.store = repo.store
        self.versions: list[tuple[Any, ...]] = []
        self.messages: dict[tuple[str, str], str] = {}
        self.known_messages: set[tuple[str, str]] = set()

    async def add_message(self, laboratory: str, control_id: str, received: str) -> None:
        """Remember a message once (the first arrival counts, as the intake's ``ON CONFLICT DO NOTHING``)."""
        if (laboratory, control_id) not in self.known_messages:
            self.known_messages.add((laboratory, control_id))
            self.messages[(laboratory, control_id)] = received
            await self._flush_when_full()

    async def add_version(self, row: tuple[Any, ...]) -> None:
        self.versions.append(row)
        await self._flush_when_full()

    async def _flush_when_full(self) -> None:
        if len(self.versions) + len(self.messages) >= _ROWS_PER_FLUSH:
            await self.flush()

    async def flush(self) -> None:
        if not self.versions and not self.messages:
            return
        messages = [(lab, control, received) for (lab, control), received in self.messages.items()]
        async with self.store.transaction() as tx:
            for part in chunks(self.versions):
                sql = f"INSERT INTO lab_result_version ({VERSION_COLUMNS}) VALUES {values_clause(len(part), 9)}"
                await tx.fetch_all(sql, [value for row in part for value in row])
            for piece in chunks(messages):
                sql = f"INSERT INTO lab_message ({_MESSAGE_COLUMNS}) VALUES {values_clause(len(piece), 3)}"
                await tx.fetch_all(sql, [value for row in piece for value in row])
        self.versions, self.messages = [], {}


async def bulk_store_er7(
    repo: Repository,
    texts: Iterable[str],
    *,
    patients: Mapping[str, str] | None = None,
    adjust: Adjust | None = None,
    workers: int = 0,
    now: Clock = utc_now,
) -> BulkLabResult:
    """Store ER7 ORU^R01 ``texts`` (valid ones, in arrival order) in bulk; see the module docstring.

    ``patients`` maps CPR numbers to the ids of stored Patients. ``workers`` > 0 parses, maps and indexes
    in that many forked processes. Refused with :class:`~bindeled.errors.Conflict` when the store already
    holds lab results (their keys would need the intake's per-key decisions against stored versions).
    """
    from bindeled.store.bulk import bulk_load

    if await repo.store.fetch_all("SELECT 1 FROM lab_message LIMIT 1"):
        raise Conflict("A bulk lab load needs a store without lab results; use the intake instead")
    result = BulkLabResult()
    keys: dict[ResultKey, _Key] = {}
    first_current: dict[str, tuple[Any, ...]] = {}  # CPR number without a given id → row it first became current in
    tables = _LabTables(repo)
    async for arrivals in _mapped(iter(texts), adjust, workers):
        received = instant(now())
        result.messages += 1
        for arrival in arrivals:
            outcome = _decide(keys, arrival)
            if outcome is Outcome.DUPLICATE:
                result.duplicates += 1
                continue
            row = (*arrival.row[:6], received, outcome.value, arrival.row[8])
            if outcome is Outcome.CURRENT:
                result.current += 1
                if patients is None or arrival.cpr not in patients:
                    first_current.setdefault(arrival.cpr, row)
                key = keys.setdefault(arrival.key, _Key(arrival.version, row))
                key.best, key.current_row = arrival.version, row
            else:
                result.history += 1
            keys[arrival.key].control_ids.add(arrival.version.control_id)
            await tables.add_version(row)
        for laboratory, control_id in sorted({(a.key.laboratory, a.version.control_id) for a in arrivals}):
            await tables.add_message(laboratory, control_id, received)
    await tables.flush()
    linked = {**(patients or {}), **await _patient_ids(repo, first_current, result)}
    loaded = await bulk_load(
        repo.store, _current_view(keys.values(), linked), method="PUT", workers=workers, defer_indexes=workers > 0
    )
    result.resources = loaded.resources
    return result


def _decide(keys: Mapping[ResultKey, _Key], arrival: _Arrival) -> Outcome:
    """The intake's decision: against the highest version of the key so far, duplicates by control id."""
    known = keys.get(arrival.key)
    if known is None:
        return decide(None, arrival.version)
    return decide(known.best, arrival.version, arrival.version.control_id in known.control_ids)


def _current_view(keys: Iterable[_Key], patients: Mapping[str, str]) -> Iterator[Resource]:
    for key in keys:
        current = version_from_row(key.current_row)
        yield from current_resources(current, patients[current.cpr])


async def _patient_ids(
    repo: Repository, first_current: Mapping[str, tuple[Any, ...]], result: BulkLabResult
) -> dict[str, str]:
    """CPR number → id of the stored Patient, created from the first current version when there is none."""
    found_or_made: dict[str, str] = {}
    if not first_current:
        return found_or_made
    with as_system():
        async with repo.store.transaction() as tx:
            for cpr, row in first_current.items():
                found = await repo.matches(tx, "Patient", f"identifier={CPR_SYSTEM}|{cpr}")
                if found:
                    found_or_made[cpr] = found[0].id
                    continue
                created = await repo.create_in(tx, "Patient", version_from_row(row).patient)
                found_or_made[cpr] = created.stored.id
                result.patients_created += 1
    return found_or_made
