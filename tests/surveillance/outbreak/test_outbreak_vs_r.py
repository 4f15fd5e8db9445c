"""Every detector and setting against R ``surveillance`` on every bundled weekly dataset.

R's outputs are produced at test time: a session fixture runs ``r_reference.R`` once per dataset
(two at a time on this 2-core machine); each run writes the dataset's series and, per detector
setting, the control JSON and R's output. Without R the tests fail and name the Debian packages.

Alarms must match exactly (NA included) and bounds to 1e-9 relative for the closed-form methods,
1e-6 for those that fit a GLM. The control goes through ``control_from_r_json`` from the same JSON
R was given, so the parser is checked on R's own names too.
"""

from __future__ import annotations

import csv
import json
import math
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


def _run(outdir: Path, name: str) -> None:
    proc = subprocess.run(
        ["Rscript", str(R_SCRIPT), name, str(outdir)], capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        (outdir / f"{name}.failed").write_text(proc.stdout + proc.stderr)


@pytest.fixture(scope="session")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory with R's reference CSVs for every dataset and setting."""
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
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda name: _run(outdir, name), DATASETS))
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


@pytest.mark.slow
@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("dataset", DATASETS)
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
