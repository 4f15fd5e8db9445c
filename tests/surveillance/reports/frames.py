"""A crafted in-memory extract for report tests: two regions, three hospitals, sixteen weeks of contacts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import polars as pl

from bindeled.surveillance.extract import Extract
from bindeled.surveillance.haiba import HaibaData

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday
CUTOFF = datetime(2026, 4, 27, tzinfo=UTC)
HOSPITALS = (("OUH", "DK-83", "med"), ("OUH", "DK-83", "kir"), ("SVS", "DK-83", "med"), ("AUH", "DK-82", "med"))
ORGANISMS = ("Escherichia coli", "Staphylococcus aureus", "Klebsiella pneumoniae")


def synthetic_extract(seed: int = 7, patients: int = 400) -> Extract:
    rng = random.Random(seed)
    contacts, lab, persons, towns = [], [], [], []
    for p in range(patients):
        pid = f"p{p:04d}"
        persons.append({"patient": pid, "birth_date": date(1940 + p % 50, 1, 1)})
        towns.append({"patient": pid, "municipality": rng.choice(("461", "540", "751"))})
        start = START + timedelta(hours=rng.randrange(0, 24 * 7 * 15))
        stay = timedelta(hours=rng.randrange(24, 24 * 20))
        hospital, region, dept = rng.choice(HOSPITALS)
        contacts.append(
            {
                "patient": pid,
                "contact_id": f"c{p}",
                "start": start,
                "end": start + stay,
                "hospital": hospital,
                "department": f"{hospital}-{dept}",
                "region": region,
                "received_at": start,
            }
        )
        if rng.random() < 0.35:
            sampled = start + timedelta(hours=rng.randrange(0, int(stay.total_seconds() // 3600)))
            lab.append(
                {
                    "patient": pid,
                    "sample_id": f"s{p}",
                    "analysis": "culture",
                    "material": "blood",
                    "organism": rng.choice(ORGANISMS),
                    "cfu_per_ml": None,
                    "toxigenic": None,
                    "sampled_at": sampled,
                    "received_at": sampled + timedelta(days=2),
                }
            )
    haiba = HaibaData.from_frames(
        contacts=pl.DataFrame(contacts),
        lab_results=pl.DataFrame(lab, schema_overrides={"cfu_per_ml": pl.Float64, "toxigenic": pl.Boolean}),
        persons=pl.DataFrame(persons),
    )
    return Extract(CUTOFF, haiba.as_of(CUTOFF), pl.DataFrame(towns))
