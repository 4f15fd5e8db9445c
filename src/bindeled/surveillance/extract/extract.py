"""Incremental columnar extract of lab results and hospital contacts, "as of" a data cut-off.

:func:`extract_store` reads the resource versions stored since the last run and up to ``cutoff`` out
of the store's history (as system work) and appends them as Parquet parts; :func:`load_extract`
(``load.py``) cuts the parts at any cut-off the extract reaches. Because every version is kept with
the instant the platform stored it, a later correction adds rows but never changes what an earlier
cut-off sees.

A report's rows are re-derived when the report gets a new version and also when only one of its
Specimen or Observations does (found through the search indexes), stamped with the instant the last
part they use was stored. Limits: a version whose transaction commits after a run that already
passed its ``lastUpdated`` is missed, so run the extract for cut-offs a little in the past; one run
holds the versions it reads in memory, so a first extract of a large store is best taken in steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from bindeled.errors import InvalidRequest
from bindeled.store.base import StoredResource
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.surveillance.extract import layout, reader
from bindeled.surveillance.extract.contact_rows import Places, contact_rows, person_rows, stay_rows
from bindeled.surveillance.extract.lab_rows import lab_rows, reference_id
from bindeled.surveillance.extract.vocabulary import Vocabulary, default_vocabulary

__all__ = ["ExtractSummary", "extract_store"]

Resource = Mapping[str, Any]
_TICK = timedelta(microseconds=1)
_TYPES = ("DiagnosticReport", "Observation", "Specimen", "Encounter", "Patient")


@dataclass(frozen=True, slots=True)
class ExtractSummary:
    """What one run read and wrote."""

    since: datetime | None
    cutoff: datetime
    versions: Mapping[str, int] = field(default_factory=dict)
    rows: Mapping[str, int] = field(default_factory=dict)
    unmapped_reports: int = 0
    """Reports whose analysis or material has no mapped code in the vocabulary."""


class _Versions:
    """The versions of one type read in this increment, by id, oldest first."""

    def __init__(self) -> None:
        self.by_id: dict[str, list[StoredResource]] = {}

    def add(self, stored: StoredResource) -> None:
        self.by_id.setdefault(stored.id, []).insert(0, stored)

    def at(self, id: str, when: datetime) -> StoredResource | None:
        found = [v for v in self.by_id.get(id, []) if v.last_updated <= when]
        return found[-1] if found else None

    def all(self) -> list[StoredResource]:
        return sorted((v for vs in self.by_id.values() for v in vs), key=lambda v: (v.last_updated, v.id))


async def _read(repo: Repository, since: datetime | None, cutoff: datetime) -> dict[str, _Versions]:
    read = {t: _Versions() for t in _TYPES}
    for resource_type in _TYPES:
        async for stored in reader.versions(repo, resource_type, since, cutoff):
            read[resource_type].add(stored)
    return read


async def _organizations(repo: Repository, cutoff: datetime) -> dict[str, Resource]:
    latest: dict[str, StoredResource] = {}
    async for stored in reader.versions(repo, "Organization", None, cutoff):
        if stored.id not in latest:
            latest[stored.id] = stored
    return {i: s.resource() for i, s in latest.items() if not s.deleted}


async def _body(repo: Repository, stored: StoredResource) -> Resource | None:
    """A version's resource; for a tombstone, the version before it (which names what was deleted)."""
    if not stored.deleted:
        return stored.resource()
    if stored.version_id <= 1:
        return None
    before = await repo.vread(stored.resource_type, stored.id, str(stored.version_id - 1))
    return None if before.deleted else before.resource()


class _Parts:
    """Specimen and Observations of one report version, as they stood before the report's next version.

    The intake writes a report's parts just after the report itself, so a version's parts are read as
    of the instant before its successor (or the run's cut-off); ``known`` is when the last of them was
    stored, which becomes the rows' ``received_at``.
    """

    def __init__(
        self, repo: Repository, read: Mapping[str, _Versions], until: datetime, known: datetime, seen: set[str]
    ) -> None:
        self.repo, self.read, self.until, self.known, self.seen = repo, read, until, known, seen

    async def get(self, resource_type: str, id: str) -> Resource | None:
        self.seen.add(f"{resource_type}/{id}")
        found = self.read[resource_type].at(id, self.until)
        found = found or await reader.as_of(self.repo, resource_type, id, self.until)
        if found is None or found.deleted:
            return None
        self.known = max(self.known, found.last_updated)
        return found.resource()


async def _lab(stored: StoredResource, parts: _Parts, vocab: Vocabulary) -> list[Any]:
    report = await _body(parts.repo, stored)
    if report is None:
        return []
    specimens = [reference_id(s, "Specimen") for s in report.get("specimen") or []]
    specimen = await parts.get("Specimen", specimens[0]) if specimens and specimens[0] else None
    observations: dict[str, Resource] = {}
    pending = [reference_id(r, "Observation") for r in report.get("result") or []]
    while pending:
        obs_id = pending.pop()
        if obs_id is None or obs_id in observations:
            continue
        obs = await parts.get("Observation", obs_id)
        if obs is not None:
            observations[obs_id] = obs
            pending += [reference_id(m, "Observation") for m in obs.get("hasMember") or []]
    return lab_rows(report, specimen, observations, vocab, received_at=parts.known, retracted=stored.deleted)


async def _orphaned(
    repo: Repository, read: Mapping[str, _Versions], seen: set[str], cutoff: datetime
) -> list[StoredResource]:
    """Reports whose Specimen or Observations changed in this run without a new version of the report.

    Found through the ``result`` and ``specimen`` search parameters; each is re-read as of the cut-off
    so its rows carry the changed parts (a correction made by updating one Observation over REST).
    """
    found: dict[str, StoredResource] = {}
    for part_type, param in (("Observation", "result"), ("Specimen", "specimen")):
        for part_id in read[part_type].by_id:
            if f"{part_type}/{part_id}" in seen:
                continue
            _, result = await repo.search("DiagnosticReport", [(param, f"{part_type}/{part_id}")])
            for match in result.resources:
                if match.id not in read["DiagnosticReport"].by_id and match.id not in found:
                    stored = await reader.as_of(repo, "DiagnosticReport", match.id, cutoff)
                    if stored is not None:
                        found[match.id] = stored
    return [found[i] for i in sorted(found)]


async def _reports(
    repo: Repository, read: Mapping[str, _Versions], cutoff: datetime, vocab: Vocabulary
) -> tuple[list[Any], int]:
    rows: list[Any] = []
    seen: set[str] = set()
    for history in read["DiagnosticReport"].by_id.values():
        for index, stored in enumerate(history):
            nxt = history[index + 1].last_updated - _TICK if index + 1 < len(history) else cutoff
            rows += await _lab(stored, _Parts(repo, read, nxt, stored.last_updated, seen), vocab)
    for stored in await _orphaned(repo, read, seen, cutoff):
        rows += await _lab(stored, _Parts(repo, read, cutoff, stored.last_updated, seen), vocab)
    unmapped = len({r["report"] for r in rows if r["analysis"] is None or r["material"] is None})
    return rows, unmapped


async def _rows(
    repo: Repository, read: Mapping[str, _Versions], cutoff: datetime, places: Places, vocab: Vocabulary
) -> tuple[dict[str, list[Any]], int]:
    rows: dict[str, list[Any]] = {frame: [] for frame in layout.FRAMES}
    rows["lab_results"], unmapped = await _reports(repo, read, cutoff, vocab)
    for stored in read["Encounter"].all():
        encounter = await _body(repo, stored)
        if encounter is not None:
            when = stored.last_updated
            rows["contacts"] += contact_rows(encounter, places, received_at=when, retracted=stored.deleted)
            rows["stays"] += [] if stored.deleted else stay_rows(encounter, received_at=when)
    for stored in read["Patient"].all():
        if not stored.deleted:
            rows["persons"] += person_rows(stored.resource(), received_at=stored.last_updated)
    return rows, unmapped


def _prepare(folder: Path) -> datetime | None:
    folder.mkdir(parents=True, exist_ok=True)
    return layout.high_water(folder)


def _write(folder: Path, since: datetime | None, cutoff: datetime, rows: dict[str, list[Any]]) -> dict[str, int]:
    written = {frame: layout.write_part(folder, frame, since, frame_rows) for frame, frame_rows in rows.items()}
    layout.write_high_water(folder, cutoff)
    return written


async def extract_store(
    repo: Repository, folder: Path, cutoff: datetime, *, vocabulary: Vocabulary | None = None
) -> ExtractSummary:
    """Bring the extract in ``folder`` up to ``cutoff`` (a no-op when it already reaches it)."""
    if cutoff.tzinfo is None:
        raise InvalidRequest("the cut-off must be time-zone aware", location=("cutoff",))
    since = await anyio.to_thread.run_sync(_prepare, folder)
    if since is not None and cutoff <= since:
        return ExtractSummary(since, since)
    with as_system():
        read = await _read(repo, since, cutoff)
        places = Places(await _organizations(repo, cutoff))
        rows, unmapped = await _rows(repo, read, cutoff, places, vocabulary or default_vocabulary())
    written = await anyio.to_thread.run_sync(_write, folder, since, cutoff, rows)
    counts = {t: sum(len(v) for v in read[t].by_id.values()) for t in _TYPES}
    return ExtractSummary(since, cutoff, counts, written, unmapped)
