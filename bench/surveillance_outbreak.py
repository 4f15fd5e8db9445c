"""Benchmark: the outbreak detectors over many weekly series, Python beside R ``surveillance``.

    .venv/bin/python bench/surveillance_outbreak.py [--series 1000] [--r-series N] [--weeks 26] [--methods ...]

Generates ``--series`` synthetic series (6 years of weekly negative binomial counts with
seasonality, a trend and injected outbreaks; fixed seed), runs every method on each in Python and,
when ``Rscript`` with ``surveillance`` is installed, the same methods on the same series in R.
Prints seconds per series for each side, the ratio and peak memory (Python: tracemalloc peak of
the detector run; R: the process's maximum resident set size). Seconds are CPU seconds of the
detector loop on both sides (Python ``process_time``, R ``user + system`` of ``proc.time``): on
a shared machine wall time depends on what else runs during each side's turn, CPU time much less.
Neither side counts its start-up: R loads ``surveillance`` before its clock starts, Python runs
one series untimed first (imports, numba's cached kernels). ``--r-series N`` runs R on the first
N series only (the series are independent draws, so the first N are a random sample) while
Python runs them all; the ratio is taken on the same N series.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from bindeled.surveillance.outbreak import WeeklySeries, control_from_r_json, detect

YEARS = 6
FREQ = 52

R_RUNNER = r"""
suppressMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
counts <- as.matrix(read.csv(args[1], header = FALSE))
first <- as.integer(args[2]); n <- ncol(counts); method <- args[3]
run <- function(y) {
  s <- sts(observed = y, freq = 52, start = c(2000, 1))
  r <- first:n
  switch(method,
    farringtonFlexible = farringtonFlexible(s, control = list(range = r)),
    farringtonNoufaily = farringtonFlexible(s, control = list(range = r, noPeriods = 10,
      pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")),
    farrington = farrington(s, control = list(range = r, b = 5, w = 3)),
    earsC = earsC(s, control = list(range = r, method = "C3")),
    cusum = cusum(s, control = list(range = r)),
    glrnb = suppressMessages(glrnb(s, control = list(range = r, ret = "value"))),
    glrpois = suppressMessages(glrpois(s, control = list(range = r, ret = "value"))),
    bayes = bayes(s, control = list(range = r, b = 1, w = 6, actY = TRUE)))
}
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- cpu()
for (i in seq_len(nrow(counts))) invisible(run(as.numeric(counts[i, ])))
cat((cpu() - t0) / nrow(counts), "\n")
"""

METHODS = {
    "farringtonFlexible": ("farringtonFlexible", {}),
    "farringtonNoufaily": (
        "farringtonFlexible",
        {"noPeriods": 10, "pastWeeksNotIncluded": 26, "pThresholdTrend": 1, "thresholdMethod": "nbPlugin"},
    ),
    "farrington": ("farrington", {"b": 5, "w": 3}),
    "earsC": ("earsC", {"method": "C3"}),
    "cusum": ("cusum", {}),
    "glrnb": ("glrnb", {"ret": "value"}),
    "glrpois": ("glrpois", {"ret": "value"}),
    "bayes": ("bayes", {"b": 1, "w": 6, "actY": True}),
}


def make_series(count: int, seed: int = 20260101) -> np.ndarray:
    """Seasonal negative binomial counts with a mild trend and a few injected outbreaks."""
    rng = np.random.default_rng(seed)
    t = np.arange(YEARS * FREQ)
    out = np.empty((count, t.shape[0]))
    for i in range(count):
        level = rng.uniform(0.5, 30)
        mean = level * np.exp(0.6 * np.sin(2 * np.pi * t / FREQ + rng.uniform(0, 6)) + rng.normal(0, 5e-4) * t)
        counts = rng.negative_binomial(2.0, 2.0 / (2.0 + mean))
        for start in rng.choice(t.shape[0] - 4, size=2, replace=False):
            counts[start : start + 4] += rng.poisson(2 * level, 4)
        out[i] = counts
    return out


def run_python(counts: np.ndarray, first: int, method: str, sample: int) -> tuple[float, float, int]:
    """CPU seconds per series over all series and over the first ``sample`` (R's sample), and the
    tracemalloc peak over a traced run of 10 series."""
    name, extra = METHODS[method]
    control = control_from_r_json(name, {**extra, "range": [first, counts.shape[1]]})
    detect(name, WeeklySeries.of(counts[0]), control)  # warm-up: imports and compiled kernels load
    t0 = time.process_time()
    t_sample = t0
    for i, row in enumerate(counts):
        detect(name, WeeklySeries.of(row), control)
        if i + 1 == sample:
            t_sample = time.process_time()
    elapsed = time.process_time() - t0
    tracemalloc.start()
    for row in counts[:10]:
        detect(name, WeeklySeries.of(row), control)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed / counts.shape[0], (t_sample - t0) / sample, peak


def run_r(counts: np.ndarray, first: int, method: str) -> tuple[float, int] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "counts.csv"
        np.savetxt(data, counts, fmt="%d", delimiter=",")
        script = Path(tmp) / "run.R"
        script.write_text(R_RUNNER)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run(
            ["Rscript", str(script), str(data), str(first), method], capture_output=True, text=True, check=False
        )
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(f"R failed for {method}: {proc.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return float(proc.stdout.split()[-1]), max(peak_kb, before) * 1024


def _row(cells: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """The first cell left-aligned, the rest right-aligned."""
    return "".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=26, help="monitored weeks at the end of each series")
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--no-r", action="store_true", help="skip the R baseline")
    parser.add_argument(
        "--r-series", type=int, default=None, help="run R on the first N series only (default: all); Python runs all"
    )
    args = parser.parse_args()
    counts = make_series(args.series)
    sample = min(args.r_series or args.series, args.series)
    first = counts.shape[1] - args.weeks + 1
    rows = []
    print(f"{args.series} series x {counts.shape[1]} weeks, last {args.weeks} monitored; R on series 1..{sample}")
    print("CPU seconds per series; the ratio compares both sides on the same series 1..R-sample")
    header = ("method", f"py all {args.series}", f"py 1..{sample}", f"R 1..{sample}", "R/py", "py MiB", "R MiB")
    widths = (20, 14, 12, 12, 8, 8, 8)
    print(_row(header, widths))
    for method in args.methods:
        py, py_sample, py_peak = run_python(counts, first, method, sample)
        r = None if args.no_r else run_r(counts[:sample], first, method)
        cells = (
            method,
            f"{py:.5f}",
            f"{py_sample:.5f}",
            f"{r[0]:.5f}" if r else "-",
            f"{r[0] / py_sample:.1f}x" if r else "-",
            f"{py_peak / 2**20:.1f}",
            f"{r[1] / 2**20:.0f}" if r else "-",
        )
        print(_row(cells, widths))
        rows.append(
            {
                "method": method,
                "python_s": py,
                "python_sample_s": py_sample,
                "r_s": r[0] if r else None,
                "r_series": sample,
                "python_peak": py_peak,
                "r_maxrss": r[1] if r else None,
            }
        )
    print(f"python process maxrss MiB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
