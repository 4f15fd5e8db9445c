"""The national-year benchmark's generator and runs still work (tiny scale, so the suite stays fast)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from bench.surveillance_haiba import generate, run_duckdb_scan, run_haiba

from bindeled.surveillance.haiba import SCHEMAS, HaibaData


def test_generated_extract_is_valid_and_runs(tmp_path: Path) -> None:
    sizes = generate(tmp_path, lab_rows=20_000, contact_rows=2_000, seed=1)
    assert sizes["lab_results"] == 20_000 and sizes["contacts"] == 2_000
    data = HaibaData.scan_parquet(tmp_path)
    assert set(data.lab_results.collect_schema()) == set(SCHEMAS["lab_results"])
    haiba = run_haiba(str(tmp_path))
    assert haiba["episodes"] > 0 and haiba["counted"] > 0 and haiba["risk_pieces"] > 0
    assert run_duckdb_scan(str(tmp_path))["rows"] == sum(sizes.values())
    lab = pl.read_parquet(tmp_path / "lab_results.parquet")
    versions = lab.group_by("sample_id", "analysis").agg(pl.col("received_at").n_unique())
    assert versions["received_at"].max() == 2  # corrections exist, one instant per version
