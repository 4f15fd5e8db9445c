"""Every detector and setting against R ``surveillance`` on the bundled weekly datasets.

R's outputs are produced at test time: a session fixture runs ``r_reference.R`` on the pairs
(dataset, setting) under test, in two R processes (this is a 2-core machine; one process serves
many datasets because loading the package costs more than most settings); it writes each
dataset's series and, per setting, the control JSON and R's output. Without R the tests fail and
name the Debian packages.

By default the tests run ``CI_SAMPLE``: a cover of the full datasets × settings grid chosen by
``choose_r_sample.py`` (every branch the full grid takes in the package, every kind of R output
per setting — R errors, NA alarms, non-finite bounds, zero, one and several alarms — every dataset,
and every setting on at least ``PER_SETTING`` datasets). It drops repetition, not kinds of case.
``BINDELED_FULL_R=1 .venv/bin/pytest tests/surveillance/outbreak`` runs the full grid; rerun the
chooser when datasets, settings or detectors change.

Alarms must match exactly (NA included) and bounds to 1e-9 relative for the closed-form methods,
1e-6 for those that fit a GLM. The control goes through ``control_from_r_json`` from the same JSON
R was given, so the parser is checked on R's own names too.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bindeled.surveillance.outbreak import DetectionResult, control_from_r_json, detect
from bindeled.surveillance.outbreak.csvio import read_series

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "r_reference.R"
APT_HINT = "install R and the package: apt-get install -y r-base-core r-cran-surveillance"

DATASETS = (
    "abattoir",
    "campyDE",
    "fluBYBW",
    "h1_nrwrp",
    "ha",
    "ha.sts",
    "hepatitisA",
    "influMen",
    "k1",
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "measles.weser",
    "measlesDE",
    "measlesWeserEms",
    "momo",
    "n1",
    "n2",
    "q1_nrwh",
    "q2",
    "s1",
    "s2",
    "s3",
    "salmAllOnset",
    "salmHospitalized",
    "salmNewport",
    "salmonella.agona",
    "shadar",
    "stsNewport",
    "synthetic_flat",
    "synthetic_sparse",
)
"""Every dataset of R ``surveillance`` 1.20.3 with weekly (freq 52) counts, plus two synthetic
series for edge behaviour. ``deleval`` (freq 104), the monthly and the individual-level data are
not weekly counts."""


def _run(outdir: Path, specs: list[str]) -> None:
    """One R process for several datasets; a dataset it did not finish gets a ``.failed`` file."""
    try:
        proc = subprocess.run(
            ["Rscript", str(R_SCRIPT), str(outdir), *specs], capture_output=True, text=True, timeout=1800, check=False
        )
        output = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        output = f"R timed out after {exc.timeout} s"
    for spec in specs:
        name = spec.split("=")[0]
        if not (outdir / f"{name}__cpu.csv").exists() and not (outdir / f"{name}.failed").exists():
            (outdir / f"{name}.failed").write_text(output)


def _r_jobs(pairs: list[tuple[str, str]], workers: int) -> list[list[str]]:
    """``r_reference.R`` arguments per R process, datasets spread so the processes take about as long."""
    wanted: dict[str, list[str]] = {}
    for dataset, setting in pairs:
        wanted.setdefault(dataset, []).append(setting)
    jobs: list[list[str]] = [[] for _ in range(workers)]
    load = [0] * workers
    for dataset, settings in sorted(wanted.items(), key=lambda item: -_weight(item[1])):
        i = load.index(min(load))
        jobs[i].append(f"{dataset}={','.join(settings)}")
        load[i] += _weight(settings)
    return [job for job in jobs if job]


def _weight(settings: list[str]) -> int:
    """Rough R cost: the Farrington fits take about ten times the other settings."""
    return sum(10 if setting.startswith(("ff_", "farrington")) else 1 for setting in settings)


@pytest.fixture(scope="session")
def r_reference(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory with R's reference CSVs for the pairs this session runs (``-k`` narrows R's work too)."""
    if shutil.which("Rscript") is None:
        pytest.fail(f"Rscript not found: {APT_HINT}")
    check = subprocess.run(
        ["Rscript", "-e", "suppressMessages(library(surveillance)); cat(as.character(packageVersion('surveillance')))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail(f"R package surveillance is not installed: {APT_HINT}")
    outdir = tmp_path_factory.mktemp("r_surveillance")
    selected = [
        (item.callspec.params["dataset"], item.callspec.params["setting"])
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_matches_r"
    ]
    jobs = _r_jobs(selected, workers=2)
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(lambda specs: _run(outdir, specs), jobs))
    return outdir


SETTINGS = {
    "ff_default": ("farringtonFlexible", 1e-6),
    "ff_1996": ("farringtonFlexible", 1e-6),
    "ff_noufaily_nb": ("farringtonFlexible", 1e-6),
    "ff_noufaily_muan": ("farringtonFlexible", 1e-6),
    "ff_noreweight": ("farringtonFlexible", 1e-6),
    "farrington": ("farrington", 1e-6),
    "farrington_early": ("farrington", 1e-6),
    "earsC1": ("earsC", 1e-9),
    "earsC2": ("earsC", 1e-9),
    "earsC3": ("earsC", 1e-9),
    "cusum_standard": ("cusum", 1e-9),
    "cusum_rossi": ("cusum", 1e-9),
    "cusum_anscombe": ("cusum", 1e-9),
    "cusum_glm": ("cusum", 1e-6),
    "glrpois_value": ("glrpois", 1e-6),
    "glrpois_cases": ("glrpois", 1e-6),
    "glrpois_window": ("glrpois", 1e-6),
    "glrpois_theta": ("glrpois", 1e-6),
    "glrnb_estimated": ("glrnb", 1e-6),
    "glrnb_alpha": ("glrnb", 1e-6),
    "glrnb_refit": ("glrnb", 1e-6),
    "bayes1": ("bayes", 1e-9),
    "bayes2": ("bayes", 1e-9),
    "bayes3": ("bayes", 1e-9),
}
"""Setting name in ``r_reference.R`` → (our method name, relative tolerance on bounds)."""


def _number(text: str) -> float:
    text = text.strip()
    return math.nan if text in ("NA", "NaN") else float(text)


def _close(ours: float, theirs: float, tol: float) -> bool:
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    return abs(ours - theirs) <= tol * max(1.0, abs(theirs))


def _compare(result: DetectionResult, rows: list[dict[str, str]], tol: float) -> list[str]:
    problems = []
    if [w.t for w in result.weeks] != [int(r["t"]) for r in rows]:
        return ["monitored weeks differ"]
    for week, row in zip(result.weeks, rows, strict=True):
        alarm = None if row["alarm"] == "NA" else row["alarm"] == "true"
        if week.alarm != alarm:
            problems.append(f"t={week.t}: alarm {week.alarm} vs R {alarm}")
        if not _close(week.upperbound, _number(row["upperbound"]), tol):
            problems.append(f"t={week.t}: upperbound {week.upperbound!r} vs R {row['upperbound'].strip()}")
        if "expected" in row and not _close(week.expected or math.nan, _number(row["expected"]), tol):
            problems.append(f"t={week.t}: expected {week.expected!r} vs R {row['expected'].strip()}")
    return problems


PER_SETTING = 5
"""Every setting runs on at least this many datasets in ``CI_SAMPLE``."""

CI_SAMPLE: dict[str, str] = {
    "abattoir": (
        "bayes1 bayes2 bayes3 cusum_anscombe cusum_glm cusum_rossi cusum_standard earsC1 earsC2 earsC3 "
        "farrington farrington_early ff_1996 ff_default ff_noreweight ff_noufaily_muan ff_noufaily_nb "
        "glrnb_alpha glrnb_estimated glrnb_refit glrpois_cases glrpois_theta glrpois_value glrpois_window"
    ),
    "campyDE": (
        "bayes1 bayes2 bayes3 cusum_anscombe cusum_glm cusum_standard earsC1 earsC2 earsC3 farrington "
        "farrington_early ff_1996 ff_default ff_noreweight ff_noufaily_muan ff_noufaily_nb glrnb_alpha "
        "glrnb_refit glrpois_cases glrpois_theta glrpois_value glrpois_window"
    ),
    "fluBYBW": (
        "bayes1 bayes2 cusum_anscombe cusum_glm cusum_standard earsC1 earsC2 earsC3 farrington ff_1996 "
        "ff_default ff_noreweight ff_noufaily_muan ff_noufaily_nb glrnb_alpha glrnb_estimated glrnb_refit "
        "glrpois_theta glrpois_value glrpois_window"
    ),
    "h1_nrwrp": "cusum_rossi cusum_standard earsC1 earsC2 farrington ff_default glrnb_alpha",
    "ha": (
        "bayes1 bayes2 cusum_anscombe cusum_rossi earsC1 earsC2 ff_noufaily_nb glrnb_alpha glrpois_cases "
        "glrpois_theta glrpois_value glrpois_window"
    ),
    "ha.sts": "cusum_rossi",
    "hepatitisA": "cusum_rossi",
    "influMen": "glrnb_estimated glrnb_refit",
    "k1": "bayes3 cusum_glm",
    "m1": "bayes1 cusum_glm cusum_rossi cusum_standard earsC3 farrington ff_1996 glrnb_refit",
    "m2": "bayes2 bayes3",
    "m3": "cusum_rossi",
    "m4": "ff_noufaily_muan",
    "m5": "cusum_rossi",
    "measles.weser": "bayes3 farrington_early",
    "measlesDE": "cusum_rossi",
    "measlesWeserEms": "cusum_rossi",
    "momo": "ff_1996 ff_default ff_noreweight",
    "n1": "glrnb_estimated glrpois_window",
    "n2": "farrington_early",
    "q1_nrwh": "glrpois_cases glrpois_theta glrpois_value",
    "q2": "cusum_rossi",
    "s1": "cusum_rossi",
    "s2": "cusum_anscombe",
    "s3": "cusum_rossi",
    "salmAllOnset": "cusum_rossi",
    "salmHospitalized": "farrington_early",
    "salmNewport": "ff_noreweight",
    "salmonella.agona": "cusum_rossi",
    "shadar": "cusum_rossi",
    "stsNewport": "ff_noufaily_nb",
    "synthetic_flat": "earsC3 ff_noufaily_muan",
    "synthetic_sparse": "glrnb_estimated glrpois_cases",
}
"""The pairs CI compares (131 of the grid's 792): dataset → its settings, space-separated. Printed by
``choose_r_sample.py`` from a full-grid run on 2026-11-22."""

FULL_GRID = [(dataset, setting) for dataset in DATASETS for setting in sorted(SETTINGS)]
PAIRS = (
    FULL_GRID
    if os.environ.get("BINDELED_FULL_R") == "1"
    else [(dataset, setting) for dataset in DATASETS for setting in CI_SAMPLE.get(dataset, "").split()]
)


def test_ci_sample_covers_every_dataset_and_setting() -> None:
    assert set(CI_SAMPLE) == set(DATASETS)
    pairs = [(dataset, setting) for dataset, settings in CI_SAMPLE.items() for setting in settings.split()]
    assert set(pairs) <= set(FULL_GRID) and len(set(pairs)) == len(pairs)
    for setting in SETTINGS:
        assert sum(s == setting for _, s in pairs) >= PER_SETTING, setting


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "setting"), PAIRS, ids=[f"{d}-{s}" for d, s in PAIRS])
def test_matches_r(r_reference: Path, dataset: str, setting: str) -> None:
    failed = r_reference / f"{dataset}.failed"
    assert not failed.exists(), failed.read_text()
    error = r_reference / f"{dataset}__{setting}.error"
    if error.exists():
        pytest.skip(f"R itself fails here: {error.read_text().strip()}")
    method, tol = SETTINGS[setting]
    series = read_series((r_reference / f"{dataset}__input.csv").read_text())
    control = control_from_r_json(method, json.loads((r_reference / f"{dataset}__{setting}.json").read_text()))
    with (r_reference / f"{dataset}__{setting}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    problems = _compare(detect(method, series, control), rows, tol)
    assert not problems, "\n".join(problems[:10])
