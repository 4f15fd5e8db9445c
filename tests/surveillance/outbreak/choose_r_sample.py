"""Choose the R reference pairs CI runs (``CI_SAMPLE`` in ``test_outbreak_vs_r.py``): a cover of the full grid.

    Rscript tests/surveillance/outbreak/r_reference.R REFDIR abattoir campyDE ...   # every dataset
    .venv/bin/python tests/surveillance/outbreak/choose_r_sample.py REFDIR

Why a cover and not a random sample: what the full grid protects is every way a detector can go,
not the number of series. Each (dataset, setting) pair is run in Python under a line tracer; its
features are the line-to-line arcs it takes in ``bindeled.surveillance.outbreak`` (its branches,
including every fallback path) and, per setting, what R's output shows: an R error (by message),
NA alarms, NaN or NA bounds or expected counts, no alarm, one alarm, several alarms. A greedy cover
picks pairs, most new features per unit of R time first (the median R CPU of the setting; ties by
name, so the choice is reproducible), until every feature of the full grid is covered, then adds
the cheapest pairs until every dataset appears and every setting runs on ``PER_SETTING`` datasets.
Prints the literal to paste. The compiled kernels are opaque to the tracer; their edge cases are
those R's output shows.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
import textwrap
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from test_outbreak_vs_r import DATASETS, PER_SETTING, SETTINGS

from bindeled.surveillance import outbreak
from bindeled.surveillance.outbreak import control_from_r_json, detect
from bindeled.surveillance.outbreak.csvio import read_series

PACKAGE = str(Path(outbreak.__file__).parent)

Pair = tuple[str, str]


def _r_features(ref: Path, dataset: str, setting: str) -> set[str]:
    error = ref / f"{dataset}__{setting}.error"
    if error.exists():
        return {f"{setting}: R error {error.read_text().strip()[:40]}"}
    with (ref / f"{dataset}__{setting}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    alarms = sum(r["alarm"] == "true" for r in rows)
    found = {f"{setting}: {min(alarms, 2)} alarms"}
    if any(r["alarm"] == "NA" for r in rows):
        found.add(f"{setting}: NA alarm")
    for column in ("upperbound", "expected"):
        if any(r.get(column, "").strip() in ("NA", "NaN", "Inf", "-Inf") for r in rows):
            found.add(f"{setting}: non-finite {column}")
    return found


def _arcs(run: Callable[[], Any]) -> set[str]:
    """Line-to-line arcs taken in the package while ``run`` runs."""
    seen: set[str] = set()
    last: dict[int, int] = {}

    def tracer(frame: FrameType, event: str, _arg: object) -> Callable[..., Any] | None:
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        key = id(frame)
        last[key] = frame.f_lineno

        def step(f: FrameType, ev: str, _a: object) -> Callable[..., Any] | None:
            if ev == "line":
                seen.add(f"{Path(f.f_code.co_filename).name}:{last[key]}>{f.f_lineno}")
                last[key] = f.f_lineno
            return step

        return step

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return seen


def _features(ref: Path, dataset: str, setting: str) -> set[str]:
    found = _r_features(ref, dataset, setting)
    if (ref / f"{dataset}__{setting}.error").exists():
        return found
    method = SETTINGS[setting][0]
    series = read_series((ref / f"{dataset}__input.csv").read_text())
    control = control_from_r_json(method, json.loads((ref / f"{dataset}__{setting}.json").read_text()))
    return found | _arcs(lambda: detect(method, series, control))


def _costs(ref: Path) -> dict[str, float]:
    """Median R CPU seconds per setting over the datasets, to two significant digits."""
    spent: dict[str, list[float]] = defaultdict(list)
    for dataset in DATASETS:
        with (ref / f"{dataset}__cpu.csv").open() as fh:
            for row in csv.DictReader(fh):
                spent[row["setting"]].append(float(row["cpu"]))
    return {s: float(f"{max(statistics.median(v), 0.001):.2g}") for s, v in spent.items()}


def choose(ref: Path) -> list[Pair]:
    cost = _costs(ref)
    features = {(d, s): _features(ref, d, s) for d in DATASETS for s in sorted(SETTINGS)}
    wanted = set().union(*features.values())
    chosen: list[Pair] = []
    covered: set[str] = set()
    while covered != wanted:
        best = min(features, key=lambda p: (-len(features[p] - covered) / cost[p[1]], p))
        chosen.append(best)
        covered |= features[best]
    by_cost = sorted(features, key=lambda p: (cost[p[1]], p))
    for dataset in DATASETS:
        if all(d != dataset for d, _ in chosen):
            chosen.append(next(p for p in by_cost if p[0] == dataset))
    for setting in sorted(SETTINGS):
        for pair in (p for p in by_cost if p[1] == setting and p not in chosen):
            if sum(s == setting for _, s in chosen) >= PER_SETTING:
                break
            chosen.append(pair)
    return sorted(chosen, key=lambda p: (DATASETS.index(p[0]), p[1]))


def literal(pairs: list[Pair]) -> str:
    """``CI_SAMPLE`` as Python source: dataset → space-separated settings, lines within 120 characters."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for dataset, setting in pairs:
        grouped[dataset].append(setting)
    lines = ["CI_SAMPLE: dict[str, str] = {"]
    for dataset, settings in grouped.items():
        chunks = textwrap.wrap(" ".join(settings), 100, break_on_hyphens=False)
        if len(chunks) == 1:
            lines.append(f'    "{dataset}": "{chunks[0]}",')
            continue
        lines.append(f'    "{dataset}": (')
        lines.extend(f'        "{chunk}{" " if i < len(chunks) - 1 else ""}"' for i, chunk in enumerate(chunks))
        lines.append("    ),")
    return "\n".join([*lines, "}"])


def main() -> None:
    pairs = choose(Path(sys.argv[1]))
    print(f"# {len(pairs)} of {len(DATASETS) * len(SETTINGS)} pairs")
    print(literal(pairs))


if __name__ == "__main__":
    main()
