"""Crafted HAIBA cases: contacts, stays and lab results in a few lines (see ``case`` in conftest)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import polars as pl

from bindeled.surveillance.haiba import SCHEMAS, Definition, HaibaData, HaibaResult, run

T0 = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
"""A Monday morning; every crafted case counts from here."""
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
M = timedelta(minutes=1)


@dataclass
class Case:
    """Rows for one crafted data set. Times are instants (UTC)."""

    contacts: list[dict[str, Any]] = field(default_factory=list)
    stays: list[dict[str, Any]] = field(default_factory=list)
    lab: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    deaths: list[dict[str, Any]] = field(default_factory=list)

    def contact(
        self,
        start: datetime,
        end: datetime | None,
        *,
        patient: str = "p1",
        department: str = "dept-A",
        hospital: str = "H1",
        region: str = "R-SYD",
        received_at: datetime | None = None,
        contact_id: str | None = None,
    ) -> Case:
        self.contacts.append(
            {
                "patient": patient,
                "contact_id": contact_id or f"c{len(self.contacts)}",
                "start": start,
                "end": end,
                "hospital": hospital,
                "department": department,
                "region": region,
                "received_at": received_at or start,
            }
        )
        return self

    def stay(self, start: datetime, end: datetime | None, ward: str, *, patient: str = "p1") -> Case:
        self.stays.append(
            {
                "patient": patient,
                "stay_id": f"s{len(self.stays)}",
                "ward": ward,
                "start": start,
                "end": end,
                "received_at": start,
            }
        )
        return self

    def sample(
        self,
        at: datetime,
        organisms: list[str | None] | str | None,
        *,
        material: str = "blood",
        analysis: str = "culture",
        patient: str = "p1",
        cfu: float | None = None,
        toxigenic: bool | None = None,
        received_at: datetime | None = None,
        sample_id: str | None = None,
    ) -> Case:
        sid = sample_id or f"x{len(self.lab)}"
        names = organisms if isinstance(organisms, list) else [organisms]
        for organism in names:
            self.lab.append(
                {
                    "patient": patient,
                    "sample_id": sid,
                    "analysis": analysis,
                    "material": material,
                    "organism": organism,
                    "cfu_per_ml": cfu,
                    "toxigenic": toxigenic,
                    "sampled_at": at,
                    "received_at": received_at or at + D,
                }
            )
        return self

    def person(self, born: date, *, patient: str = "p1") -> Case:
        self.persons.append({"patient": patient, "birth_date": born})
        return self

    def death(self, at: datetime, *, patient: str = "p1") -> Case:
        self.deaths.append({"patient": patient, "died_at": at, "received_at": at})
        return self

    def data(self) -> HaibaData:
        def frame(rows: list[dict[str, Any]], name: str) -> pl.DataFrame:
            return pl.DataFrame(rows, schema=dict(SCHEMAS[name]))

        return HaibaData.from_frames(
            contacts=frame(self.contacts, "contacts"),
            lab_results=frame(self.lab, "lab_results"),
            stays=frame(self.stays, "stays"),
            persons=frame(self.persons, "persons"),
            deaths=frame(self.deaths, "deaths"),
        )

    def run(self, *, as_of: datetime = CUTOFF, definition: Definition | None = None, **kw: Any) -> HaibaResult:
        return run(self.data(), as_of=as_of, definition=definition, **kw)


ORGANISMS = ("Escherichia coli", "Staphylococcus aureus", "Staphylococcus epidermidis", "Klebsiella pneumoniae")


def random_case(rng: random.Random, patients: int = 4) -> Case:
    """A small random but valid data set: overlapping contacts, ward moves, positives, deaths."""
    case = Case()
    for p in range(patients):
        patient = f"p{p}"
        case.person(date(rng.randint(1930, 2023), rng.randint(1, 12), rng.randint(1, 28)), patient=patient)
        at = T0 + rng.randint(0, 60 * 24 * 20) * M
        for _ in range(rng.randint(1, 4)):
            start = at + rng.randint(-60 * 24, 60 * 24 * 10) * M
            end = start + rng.randint(0, 60 * 24 * 12) * M
            case.contact(start, end, patient=patient, department=rng.choice("ABC"), hospital=rng.choice(["H1", "H2"]))
            moves = sorted({start, end, *(start + rng.randint(0, 60 * 24 * 12) * M for _ in range(2))})
            for a, b in pairwise(m for m in moves if m <= end):
                case.stay(a, b, rng.choice(["W1", "W2", "W3"]), patient=patient)
            at = end
        for _ in range(rng.randint(0, 4)):
            sampled = T0 + rng.randint(0, 60 * 24 * 40) * M
            material = rng.choice(["blood", "30001"])
            case.sample(sampled, rng.choice(ORGANISMS), material=material, patient=patient, cfu=1e5)
        if rng.random() < 0.2:
            case.death(T0 + rng.randint(0, 60 * 24 * 40) * M, patient=patient)
    return case
