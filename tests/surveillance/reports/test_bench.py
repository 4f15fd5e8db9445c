"""The benchmark's extract and report runs still work (tiny scale, so the suite stays fast)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.surveillance_haiba import CUTOFF, generate, run_reports, store_extract_run, to_extract_layout

from bindeled.surveillance.extract import load_extract


def test_generated_year_as_an_extract_gives_a_report(tmp_path: Path) -> None:
    generate(tmp_path, lab_rows=20_000, contact_rows=2_000, seed=1)
    folder = to_extract_layout(tmp_path)
    extract = load_extract(folder, CUTOFF)
    assert extract.haiba.contacts.collect().height == 2_000
    out = run_reports(str(tmp_path))
    assert out["bytes"] > 0 and out["signals"] > 0


def test_store_extract_run_reads_every_version(tmp_path: Path) -> None:
    out = asyncio.run(store_extract_run(5, tmp_path))
    assert out["versions"] == out["baseline_rows"] > 5
