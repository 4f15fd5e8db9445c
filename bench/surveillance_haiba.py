"""HAIBA over a synthetic national year, beside a plain DuckDB scan of the same Parquet files.

    .venv/bin/python bench/surveillance_haiba.py                  # 10M lab rows, 1M contacts
    .venv/bin/python bench/surveillance_haiba.py --lab 1e6 --contacts 1e5   # quick

The data are generated vectorised with numpy (a few GB of memory at full size) and written as
Parquet. Each measurement runs in a fresh process so its peak RSS is its own; the baseline reads
every column of every file once with DuckDB, the floor any engine pays to look at the data.

Two more runs cover the production path: the same data laid out as a surveillance extract
(``bindeled.surveillance.extract``: versions resolved and retractions applied as of the cut-off) and
turned into a report (rates per region and month, outbreak signals, CSV + HTML + PDF); and the
extract itself, reading ``--store-reports`` lab reports out of a SQLite store's history into Parquet,
beside a plain scan of the same history rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

YEAR = datetime(2024, 1, 1, tzinfo=UTC)
US_HOUR = 3_600_000_000
US_DAY = 24 * US_HOUR
US_YEAR = 366 * US_DAY
CONS = ("Staphylococcus epidermidis", "Staphylococcus hominis", "Micrococcus luteus")
BLOOD = ("Escherichia coli", "Staphylococcus aureus", "Klebsiella pneumoniae", "Enterococcus faecalis", *CONS)
URINE = ("Escherichia coli", "Klebsiella pneumoniae", "Enterococcus faecalis", "Proteus mirabilis")
CDIFF = "Clostridioides difficile"
BASE_US = int(YEAR.timestamp() * 1_000_000)


def _instants(us: np.ndarray) -> pl.Series:
    return pl.Series(us + BASE_US).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _codes(prefix: str, index: np.ndarray) -> pl.Series:
    return pl.select(pl.lit(prefix) + pl.Series(index).cast(pl.String).str.pad_start(5, "0")).to_series()


def _contacts(rng: np.random.Generator, n: int, patients: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    patient = rng.integers(0, patients, n)
    start = rng.integers(0, US_YEAR, n)
    hours = np.minimum(rng.lognormal(3.3, 1.3, n), 24 * 90)
    end = start + (hours * US_HOUR).astype(np.int64)
    department = rng.integers(0, 1200, n)
    hospital = department // 20
    open_ = rng.random(n) < 0.002
    contacts = pl.DataFrame(
        {
            "patient": patient,
            "contact_id": np.arange(n),
            "start": _instants(start),
            "end": _instants(end),
            "hospital": _codes("H", hospital),
            "department": _codes("D", department),
            "region": _codes("R", hospital % 5),
            "received_at": _instants(start + US_HOUR),
        }
    ).with_columns(
        pl.col("contact_id").cast(pl.String), pl.when(pl.Series(open_)).then(None).otherwise("end").alias("end")
    )
    # Ward stays: each contact cut at up to two random moves.
    parts = rng.integers(1, 4, n)
    rows = np.repeat(np.arange(n), parts)
    cuts = np.sort(rng.random((n, 3)), axis=1)
    k = np.arange(rows.size) - np.repeat(np.cumsum(parts) - parts, parts)
    frac_lo = np.where(k == 0, 0.0, cuts[rows, np.maximum(k - 1, 0)])
    frac_hi = np.where(k == parts[rows] - 1, 1.0, cuts[rows, np.minimum(k, 2)])
    span = end[rows] - start[rows]
    stays = pl.DataFrame(
        {
            "patient": patient[rows],
            "stay_id": np.arange(rows.size),
            "contact_id": rows,
            "ward": _codes("W", department[rows] * 4 + k),
            "start": _instants(start[rows] + (span * frac_lo).astype(np.int64)),
            "end": _instants(start[rows] + (span * frac_hi).astype(np.int64)),
            "received_at": _instants(start[rows] + US_HOUR),
        }
    ).with_columns(pl.col("stay_id").cast(pl.String), pl.col("contact_id").cast(pl.String))
    return contacts, stays


def _lab(rng: np.random.Generator, n: int, contacts: pl.DataFrame, patients: int, seed: int) -> pl.DataFrame:
    samples = int(n / 1.14)  # 1.125 rows per sample, 2 % corrections
    inside = rng.random(samples) < 0.6
    pick = rng.integers(0, contacts.height, samples)
    c_start = contacts["start"].dt.epoch("us").to_numpy() - BASE_US
    c_end = contacts["end"].fill_null(contacts["start"]).dt.epoch("us").to_numpy() - BASE_US
    c_patient = contacts["patient"].to_numpy()
    during = c_start[pick] + (rng.random(samples) * (c_end[pick] - c_start[pick] + 2 * US_DAY)).astype(np.int64)
    sampled = np.where(inside, during, rng.integers(0, US_YEAR, samples))
    patient = np.where(inside, c_patient[pick], rng.integers(0, patients, samples))
    kind = rng.choice(4, samples, p=[0.15, 0.25, 0.05, 0.55])  # blood, urine, stool, other
    isolates = np.where(kind == 1, rng.choice([1, 2, 3], samples, p=[0.6, 0.3, 0.1]), 1)
    rows = np.repeat(np.arange(samples), isolates)
    size = rows.size
    positive = rng.random(samples) < np.array([0.1, 0.45, 0.08, 0.3])[kind]
    material = np.array(["blood", "30001", "feces", "wound"])[kind[rows]]
    organism = np.where(
        kind[rows] == 0,
        np.array(BLOOD)[rng.integers(0, len(BLOOD), size)],
        np.where(kind[rows] == 1, np.array(URINE)[rng.integers(0, len(URINE), size)], CDIFF),
    )
    organism = np.where(kind[rows] == 3, "Staphylococcus aureus", organism)
    received = (sampled + rng.integers(US_HOUR, 4 * US_DAY, samples))[rows]  # one version: one instant
    lab = pl.DataFrame(
        {
            "patient": patient[rows],
            "sample_id": rows,
            "analysis": np.where(kind[rows] == 2, "pcr", "culture"),
            "material": material,
            "organism": pl.Series(organism).set(pl.Series(~positive[rows]), None),
            "cfu_per_ml": np.where(kind[rows] == 1, 10.0 ** rng.integers(3, 7, size), np.nan),
            "toxigenic": pl.Series(rng.random(size) < 0.9).set(pl.Series(kind[rows] != 2), None),
            "sampled_at": _instants(sampled[rows]),
            "received_at": _instants(received),
        }
    ).with_columns(pl.col("sample_id").cast(pl.String), pl.col("cfu_per_ml").fill_nan(None))
    # 2 % of samples get a corrected version three days later: one row, result negative.
    corrected = lab.select("sample_id").unique(maintain_order=True).sample(fraction=0.02, seed=seed)
    corrections = (
        lab.join(corrected, on="sample_id", how="semi")
        .unique("sample_id", keep="first", maintain_order=True)
        .with_columns(pl.col("received_at") + pl.duration(days=3), pl.lit(None, dtype=pl.String).alias("organism"))
    )
    return pl.concat([lab, corrections]).head(n)


def generate(directory: Path, lab_rows: int, contact_rows: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    patients = int(contact_rows * 0.7)
    contacts, stays = _contacts(rng, contact_rows, patients)
    lab = _lab(rng, lab_rows, contacts, patients, seed)
    born = rng.integers(-36_000, -30, patients)
    persons = pl.DataFrame({"patient": np.arange(patients), "birth_date": pl.Series(born).cast(pl.Date)})
    dead = rng.choice(patients, patients // 50, replace=False)
    deaths = pl.DataFrame({"patient": dead, "died_at": _instants(rng.integers(0, US_YEAR, dead.size))}).with_columns(
        received_at=pl.col("died_at") + pl.duration(days=2)
    )
    frames = {"contacts": contacts, "stays": stays, "lab_results": lab, "persons": persons, "deaths": deaths}
    for name, frame in frames.items():
        frame.write_parquet(directory / f"{name}.parquet", row_group_size=1 << 20)
    return {name: frame.height for name, frame in frames.items()}


def run_haiba(directory: str) -> dict[str, float]:
    from bindeled.surveillance.haiba import LEVELS, HaibaData, run

    began = time.perf_counter()
    result = run(HaibaData.scan_parquet(Path(directory)), as_of=datetime(2025, 2, 1, tzinfo=UTC))
    tables = [result.rates(level) for level in LEVELS]
    counted = int(result.episodes["counted"].sum())
    return {
        "seconds": time.perf_counter() - began,
        "episodes": result.episodes.height,
        "counted": counted,
        "rate_rows": sum(t.height for t in tables),
        "risk_pieces": result.risk.height,
    }


CUTOFF = datetime(2025, 2, 1, tzinfo=UTC)


def to_extract_layout(directory: Path) -> Path:
    """The generated files as a surveillance extract folder (one part per frame), reaching ``CUTOFF``."""
    from bindeled.surveillance.extract import layout

    folder = directory / "extract"
    frames = {name: pl.read_parquet(directory / f"{name}.parquet") for name in ("lab_results", "contacts", "stays")}
    persons = pl.read_parquet(directory / "persons.parquet").join(
        pl.read_parquet(directory / "deaths.parquet"), on="patient", how="left"
    )
    received = pl.lit(YEAR).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    extra = {
        "lab_results": [pl.col("sample_id").alias("report"), pl.lit(value=False).alias("retracted")],
        "contacts": [pl.lit(value=False).alias("retracted")],
        "stays": [],
    }
    for name, frame in frames.items():
        path = layout.part_path(folder, name, None)
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = list(layout.FRAMES[name])
        frame.with_columns(pl.col("patient").cast(pl.String), *extra[name]).select(columns).write_parquet(path)
    persons = persons.select(
        pl.col("patient").cast(pl.String),
        "birth_date",
        municipality=(pl.col("patient") % 98 + 101).cast(pl.String),
        died_at="died_at",
        received_at=received,
    )
    path = layout.part_path(folder, "persons", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    persons.write_parquet(path)
    layout.write_high_water(folder, CUTOFF)
    return folder


def run_reports(directory: str) -> dict[str, float]:
    """Extract as of the cut-off → report per region and month → CSV, HTML and PDF."""
    from bindeled.surveillance.extract import load_extract
    from bindeled.surveillance.reports import build_report, render

    began = time.perf_counter()
    extract = load_extract(Path(directory) / "extract", CUTOFF)
    report = build_report(extract, level="region", period="month")
    sizes = [len(render(report, fmt)[0]) for fmt in ("csv", "html", "pdf")]
    return {"seconds": time.perf_counter() - began, "signals": len(report.signals), "bytes": sum(sizes)}


def run_duckdb_scan(directory: str) -> dict[str, float]:
    import duckdb

    began = time.perf_counter()
    con = duckdb.connect()
    rows = 0
    for name in ("contacts", "stays", "lab_results", "persons", "deaths"):
        path = str(Path(directory) / f"{name}.parquet")
        columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        counts = ", ".join(f'sum(hash("{c}"))' for c in columns)  # reads every value; counts alone could use stats
        rows += con.execute(f"SELECT count(*), {counts} FROM read_parquet('{path}')").fetchone()[0]  # type: ignore[index]
    return {"seconds": time.perf_counter() - began, "rows": rows}


def _peak_rss_mb() -> float:
    """VmHWM of this process (unlike ru_maxrss, not inherited from the parent across fork/exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(target: str, directory: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    cpu = time.process_time()
    runs = {"haiba": run_haiba, "reports": run_reports, "duckdb": run_duckdb_scan}
    out = runs[target](directory)
    out["cpu_seconds"] = time.process_time() - cpu
    out["peak_rss_mb"] = _peak_rss_mb()
    queue.put(out)


def measure(target: str, directory: Path) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(target, str(directory), queue))
    proc.start()
    out: dict[str, float] = queue.get()
    proc.join()
    return out


async def store_extract_run(reports: int, folder: Path) -> dict[str, float]:
    """Write ``reports`` lab reports (with Specimen and Observations) into SQLite, then extract them."""
    import random
    import sqlite3

    from bindeled.fhir.definitions import load_definitions
    from bindeled.fhir.validation import Validator
    from bindeled.lab.hl7v2 import map_oru_r01, parse
    from bindeled.lab.synthetic import synthetic_case
    from bindeled.store.factory import open_store
    from bindeled.store.guard import as_system
    from bindeled.store.repository import Repository
    from bindeled.surveillance.extract import extract_store

    definitions = load_definitions()
    database = folder / "store.db"
    store = open_store(f"sqlite:///{database}")
    await store.open()
    repo = Repository(store, definitions, Validator(definitions))
    rng = random.Random(1)
    try:
        with as_system():
            for n in range(reports):
                result = map_oru_r01(parse(synthetic_case(rng).message("F"))).results[0]
                async with store.transaction() as tx:
                    for resource in result.resources:
                        linked = {**resource, "subject": {"reference": f"Patient/p{n % 5000}"}}
                        await repo.update_in(tx, linked["resourceType"], linked["id"], linked)
        began = time.perf_counter()
        summary = await extract_store(repo, folder / "extract", datetime.now(UTC))
        seconds = time.perf_counter() - began
    finally:
        await store.close()
    began = time.perf_counter()
    with sqlite3.connect(database) as con:  # baseline: every history body read and JSON-decoded once
        rows = con.execute("SELECT body FROM resource_history").fetchall()
        decoded = sum(1 for (body,) in rows if json.loads(body))
    baseline = time.perf_counter() - began
    versions = sum(summary.versions.values())
    return {"seconds": seconds, "versions": versions, "baseline_seconds": baseline, "baseline_rows": decoded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab", type=float, default=10e6, help="lab result rows (default 10M)")
    parser.add_argument("--contacts", type=float, default=1e6, help="hospital contacts (default 1M)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--dir", type=Path, help="keep the Parquet files here (default: a temporary directory)")
    parser.add_argument("--store-reports", type=int, default=2000, help="lab reports for the store extract run")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="haiba-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        began = time.perf_counter()
        sizes = generate(directory, int(args.lab), int(args.contacts), args.seed)
        print(f"generated in {time.perf_counter() - began:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        to_extract_layout(directory)
        baseline = measure("duckdb", directory)
        haiba = measure("haiba", directory)
        reports = measure("reports", directory)
        print(f"load average before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'run':<34}{'seconds':>10}{'CPU s':>10}{'peak RSS MB':>14}")
        runs = (
            ("DuckDB scan of every column", baseline),
            ("HAIBA (3 infections, all levels)", haiba),
            ("extract as of cut-off → report", reports),
        )
        for label, m in runs:
            print(f"{label:<34}{m['seconds']:>10.2f}{m['cpu_seconds']:>10.2f}{m['peak_rss_mb']:>14.0f}")
        print(
            f"HAIBA/baseline time {haiba['seconds'] / baseline['seconds']:.1f}x; "
            f"episodes {haiba['episodes']:,.0f} (counted {haiba['counted']:,.0f}), "
            f"risk pieces {haiba['risk_pieces']:,.0f}, rate rows {haiba['rate_rows']:,.0f}"
        )
        print(f"report: {reports['signals']:,.0f} signal weeks, {reports['bytes']:,.0f} bytes of CSV+HTML+PDF")
        if args.store_reports:
            store = asyncio.run(store_extract_run(args.store_reports, directory))
            print(
                f"store → Parquet extract: {store['versions']:,.0f} versions in {store['seconds']:.2f} s "
                f"({store['versions'] / store['seconds']:,.0f}/s); baseline JSON scan of {store['baseline_rows']:,.0f} "
                f"history rows {store['baseline_seconds']:.2f} s"
            )
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
