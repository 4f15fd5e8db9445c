"""A small synthetic hospital world written through the repository: SOR tree, patients, contacts, lab results.

Lab results go through the real ORU^R01 mapping (``bindeled.lab``), so the extract reads the shapes
the intake produces. Everything is SYNTHETIC.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bindeled.lab.hl7v2 import map_oru_r01, parse
from bindeled.lab.synthetic import SyntheticCase
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository

REGION = "http://hl7.dk/fhir/core/CodeSystem/dk-core-regional-subdivision-codes"
SYNTHETIC = {"system": "https://bindeled.dk/fhir/CodeSystem/data-origin", "code": "SYNTHETIC"}
REFUSED = {"system": "https://bindeled.dk/fhir/CodeSystem/display", "code": "refused"}
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def organisations() -> list[dict[str, Any]]:
    def org(id: str, name: str, parent: str | None, region: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Organization", "id": id, "name": name, "meta": {"tag": [SYNTHETIC]}}
        if region:
            out["identifier"] = [{"system": REGION, "value": region}]
        if parent:
            out["partOf"] = {"reference": f"Organization/{parent}"}
        return out

    return [
        org("region-sd", "Region Syddanmark", None, "DK-83"),
        org("ouh", "Odense Universitetshospital", "region-sd"),
        org("ouh-med", "Medicinsk afdeling", "ouh"),
        org("ouh-kir", "Kirurgisk afdeling", "ouh"),
    ]


def patient(pid: str, born: str, municipality: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"tag": [SYNTHETIC]},
        "birthDate": born,
        "address": [{"use": "home", "district": municipality}],
    }


def encounter(eid: str, pid: str, dept: str, start: datetime, end: datetime | None) -> dict[str, Any]:
    period = {"start": start.isoformat()} | ({"end": end.isoformat()} if end else {})
    return {
        "resourceType": "Encounter",
        "id": eid,
        "meta": {"tag": [SYNTHETIC]},
        "status": "finished" if end else "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"Patient/{pid}"},
        "serviceProvider": {"reference": f"Organization/{dept}"},
        "period": period,
    }


def blood_case(sample: str, collected: datetime, organism: tuple[str, str] | None) -> SyntheticCase:
    return SyntheticCase(
        laboratory="999000000000011",
        sample_number=sample,
        kind="blood",
        cpr="6101709995",
        family="Demo",
        given="Syntetisk",
        sex="M",
        collected=collected,
        organism=organism,
    )


def mapped_resources(case: SyntheticCase, status: str, pid: str, *, refused: bool = False) -> list[dict[str, Any]]:
    """The Specimen, DiagnosticReport and Observations of one version, linked to ``Patient/pid``."""
    result = map_oru_r01(parse(case.message(status))).results[0]
    out = []
    for resource in result.resources:
        linked = {**resource, "subject": {"reference": f"Patient/{pid}"}}
        linked["meta"] = {"tag": [SYNTHETIC]} | ({"security": [REFUSED]} if refused else {})
        out.append(linked)
    return out


@dataclass
class Writer:
    """Writes through the repository with the store's clock set to chosen instants."""

    repo: Repository
    clock: Any

    async def put(self, at: datetime, *resources: dict[str, Any]) -> None:
        self.clock.now = at
        with as_system():
            for resource in resources:
                await self.repo.update(resource["resourceType"], resource["id"], resource)

    async def delete(self, at: datetime, resource_type: str, id: str) -> None:
        self.clock.now = at
        with as_system():
            await self.repo.delete(resource_type, id)


def rng_minutes(rng: random.Random, hours: int) -> timedelta:
    return timedelta(minutes=rng.randrange(hours * 60))
