"""The demo's surveillance on both backends: contacts for the demo citizens, then every report written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bindeled.demo.patients import synthetic_citizens
from bindeled.registry import SorTree, import_into, synthetic_region
from bindeled.store.guard import as_system
from bindeled.surveillance.reports.demo import demo_reports, load_demo_contacts
from tests.surveillance.extract.world import Writer, blood_case, mapped_resources

pytestmark = pytest.mark.anyio

ADMITTED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.slow
async def test_demo_reports_cover_the_demo_hospitals(writer: Writer, tmp_path: Path) -> None:
    with as_system():
        await import_into(writer.repo.store, SorTree.from_export(synthetic_region()))
    citizens = [group[0] for group in synthetic_citizens(12, seed=3)]
    await writer.put(datetime(2026, 1, 2, tzinfo=UTC), *citizens)
    admissions = []
    for n, citizen in enumerate(citizens[:3]):
        sampled = ADMITTED + timedelta(days=n, hours=72)
        case = blood_case(f"20000000{n:02d}", sampled, ("SAUR", "Staphylococcus aureus"))
        await writer.put(sampled + timedelta(days=2), *mapped_resources(case, "F", citizen["id"]))
        cpr = citizen["identifier"][0]["value"]
        admissions.append((cpr, "MED-B", ADMITTED + timedelta(days=n), sampled))
    writer.clock.now = datetime(2026, 4, 1, tzinfo=UTC)
    written = await load_demo_contacts(writer.repo, admissions, seed=3)
    assert written >= 3

    cutoff = datetime(2026, 5, 1, tzinfo=UTC)
    paths = await demo_reports(writer.repo, tmp_path / "extract", tmp_path / "out", cutoff=cutoff)
    assert len(paths) == 18
    text = (tmp_path / "out" / "haiba-hospital-month.csv").read_text()
    rows = list(csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#")))))
    march = [r for r in rows if r["infection_or_pathogen"] == "bacteraemia" and r["period"] == "2026-03"]
    assert any(r["episodes"] == "<5" and r["area"] not in ("total", "unknown") for r in march)
    assert f"data cut-off: {cutoff.isoformat()}" in text
