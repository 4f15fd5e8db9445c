"""The demo's surveillance: synthetic hospital contacts for the demo citizens, and every report of them.

The demo data set holds citizens, the synthetic SOR tree of Region Syddanmark and microbiology results
(``lab.demo_results``), but no hospital contacts with a responsible department, which HAIBA needs.
:func:`load_demo_contacts` writes SYNTHETIC inpatient Encounters: one around every sample the
laboratory stream says was taken during an admission (its ward maps to one department, so a ward's
cluster stays in one hospital), and background admissions for the risk-time denominators.
:func:`demo_reports` extracts the store up to a cut-off and writes every report (level × period ×
CSV/HTML/PDF) for the epidemiologist pages.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.surveillance.extract import extract_store, load_extract
from bindeled.surveillance.extract.reader import versions
from bindeled.surveillance.reports.publish import write_reports

__all__ = ["DEPARTMENT_TYPE", "Admission", "demo_reports", "load_demo_contacts"]

DEPARTMENT_TYPE = "550811000005108"
"""SNOMED CT (Danish extension) type of a hospital department in SOR."""
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SYNTHETIC_TAG = {
    "system": "https://bindeled.dk/fhir/CodeSystem/data-origin",
    "code": "SYNTHETIC",
    "display": "Synthetic demo data",
}
_NAMESPACE = uuid.UUID("0d1b7c52-5a0e-5c7e-9f6e-68616962612d")

Admission = tuple[str, str, datetime, datetime]
"""(CPR, ward code, admitted, sampled): a sample the laboratory stream says was taken during an admission."""


async def _current(repo: Repository, resource_type: str, cutoff: datetime) -> dict[str, dict[str, Any]]:
    latest: dict[str, Any] = {}
    async for stored in versions(repo, resource_type, None, cutoff):
        latest.setdefault(stored.id, stored)
    return {i: s.resource() for i, s in latest.items() if not s.deleted}


def _is_department(org: dict[str, Any]) -> bool:
    return any(c.get("code") == DEPARTMENT_TYPE for t in org.get("type") or [] for c in t.get("coding") or [])


def _encounter(pid: str, department: str, start: datetime, end: datetime, key: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "meta": {"tag": [dict(SYNTHETIC_TAG)]},
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient"},
        "subject": {"reference": f"Patient/{pid}"},
        "serviceProvider": {"reference": f"Organization/{department}"},
        "period": {"start": start.isoformat(), "end": end.isoformat()},
    }


def _department_for(ward: str, departments: list[str]) -> str:
    digest = int(hashlib.sha256(ward.encode()).hexdigest(), 16)
    return departments[digest % len(departments)]


async def load_demo_contacts(
    repo: Repository,
    admissions: Iterable[Admission],
    *,
    seed: int = 1,
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC),
    days: int = 300,
    background_share: float = 0.3,
) -> int:
    """Write the demo's inpatient Encounters; returns how many. Needs the SOR tree and the citizens stored."""
    rng = random.Random(seed)
    with as_system():
        now = datetime.now(UTC)
        orgs = await _current(repo, "Organization", now)
        patients = await _current(repo, "Patient", now)
        departments = sorted(i for i, org in orgs.items() if _is_department(org))
        if not departments or not patients:
            return 0
        by_cpr = {
            str(ident["value"]): pid
            for pid, p in patients.items()
            for ident in p.get("identifier") or []
            if ident.get("system") == CPR_SYSTEM and ident.get("value")
        }
        written = 0
        for cpr, ward, admitted, sampled in admissions:
            pid = by_cpr.get(cpr)
            if pid is None:
                continue
            end = max(sampled, admitted) + timedelta(hours=rng.randrange(24, 24 * 8))
            dept = _department_for(ward, departments)
            await repo.update(
                "Encounter", *_pair(_encounter(pid, dept, admitted, end, f"{cpr}|{admitted.isoformat()}"))
            )
            written += 1
        for pid in sorted(patients):
            if rng.random() >= background_share:
                continue
            begin = start + timedelta(minutes=rng.randrange(days * 24 * 60))
            end = begin + timedelta(hours=rng.randrange(6, 24 * 14))
            dept = rng.choice(departments)
            await repo.update("Encounter", *_pair(_encounter(pid, dept, begin, end, f"bg|{pid}|{seed}")))
            written += 1
    return written


def _pair(resource: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return str(resource["id"]), resource


async def demo_reports(
    repo: Repository, extract_folder: Path, out_folder: Path, *, cutoff: datetime | None = None
) -> list[Path]:
    """Bring the extract up to ``cutoff`` (default: now) and write every report of the demo data into ``out_folder``."""
    moment = cutoff or datetime.now(UTC)
    await extract_store(repo, extract_folder, moment)
    extract = await anyio.to_thread.run_sync(load_extract, extract_folder, moment)
    return await anyio.to_thread.run_sync(lambda: write_reports(extract, out_folder))
