"""Outbreak signals: a cluster of hospital-acquired cases alarms, scattered single cases do not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from bindeled.surveillance.extract import Extract
from bindeled.surveillance.haiba import HaibaData
from bindeled.surveillance.reports import build_report

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # Monday of ISO week 2
CUTOFF = datetime(2026, 5, 1, tzinfo=UTC)


def _extract(case_weeks: list[int]) -> Extract:
    contacts, lab, persons = [], [], []
    for n, week in enumerate(case_weeks):
        pid = f"p{n}"
        persons.append({"patient": pid, "birth_date": date(1950, 1, 1)})
        begin = START + timedelta(weeks=week)
        contacts.append(
            {
                "patient": pid,
                "contact_id": f"c{n}",
                "start": begin - timedelta(days=3),
                "end": begin + timedelta(days=5),
                "hospital": "H",
                "department": "H-med",
                "region": "DK-83",
                "received_at": begin - timedelta(days=3),
            }
        )
        lab.append(
            {
                "patient": pid,
                "sample_id": f"s{n}",
                "analysis": "culture",
                "material": "blood",
                "organism": "Klebsiella pneumoniae",
                "cfu_per_ml": None,
                "toxigenic": None,
                "sampled_at": begin + timedelta(hours=n % 5),
                "received_at": begin + timedelta(days=2),
            }
        )
    haiba = HaibaData.from_frames(
        contacts=pl.DataFrame(contacts),
        lab_results=pl.DataFrame(lab, schema_overrides={"cfu_per_ml": pl.Float64, "toxigenic": pl.Boolean}),
        persons=pl.DataFrame(persons),
    )
    return Extract(CUTOFF, haiba, pl.DataFrame({"patient": [p["patient"] for p in persons], "municipality": "461"}))


def test_cluster_alarms_single_cases_do_not() -> None:
    report = build_report(_extract([0, 3, 6, 9, *[12] * 6]), level="hospital", period="week")
    alarms = [(s.area, s.pathogen, s.week, s.observed) for s in report.signals if s.alarm]
    assert alarms == [("H", "Klebsiella pneumoniae", "2026-W14", 6)]
    assert "minSigma 1" in report.detector
