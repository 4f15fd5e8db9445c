"""``earsC``: the CDC's Early Aberration Reporting System C1, C2 and C3, as R ``surveillance``.

C1 compares week t with the mean and standard deviation (n - 1) of lags 1..baseline, C2 with lags
3..baseline+2. C3 sums C2 with the positive parts of (C2 - 1) at the two previous weeks; its bound
is the count that would bring that sum to the threshold, floored at 0. Alarms are strict
(``y > U``), as R computes them (its help page says ``>=``). A flat baseline gives ``sd = 0``: C1/C2
then bound at the mean; C3 gives ``NaN`` and no alarm value where a lagged C2 is 0/0 or infinite.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy import special

from .controls import EarsControl
from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["ears_c"]

Array = NDArray[np.float64]

_FIRST_LAG = {"C1": 1, "C2": 3, "C3": 3}
_EXTRA_START = {"C1": 1, "C2": 3, "C3": 5}


def _mean_sd(obs: Array, weeks: NDArray[np.int64], baseline: int, first_lag: int) -> tuple[Array, Array]:
    """Mean and sample sd of the ``baseline`` weeks ending ``first_lag`` weeks before each week."""
    windows = sliding_window_view(obs, baseline)
    rows = windows[weeks - 1 - first_lag - baseline + 1]
    return rows.mean(axis=1), rows.std(axis=1, ddof=1)


def _alarm(y: float, upper: float) -> bool | None:
    if math.isnan(y) or math.isnan(upper):
        return None
    return y > upper


def ears_c(series: WeeklySeries, control: EarsControl | None = None) -> DetectionResult:
    """Run EARS C1, C2 or C3 (``control.method``) over the monitored weeks."""
    c = control or EarsControl()
    if c.method not in _FIRST_LAG:
        raise ValueError("method must be 'C1', 'C2' or 'C3'")
    if c.minSigma < 0:
        raise ValueError("minSigma must not be negative")
    if c.baseline < 3:
        raise ValueError("the minimum baseline is 3")
    alpha = c.alpha if c.alpha is not None else (0.025 if c.method == "C3" else 0.001)
    n = len(series)
    first, last = c.range or (c.baseline + _EXTRA_START[c.method], n)
    max_lag = c.baseline + {"C1": 0, "C2": 2, "C3": 4}[c.method]
    if first - max_lag < 1 or last > n or first > last:
        raise ValueError("the series is too short for this baseline and range")
    c = dataclasses.replace(c, range=(first, last), alpha=alpha)
    obs = series.observed
    weeks = np.arange(first, last + 1)
    z = float(special.ndtri(1 - alpha))
    lag = _FIRST_LAG[c.method]
    if c.method in ("C1", "C2"):
        mean, sd = _mean_sd(obs, weeks, c.baseline, lag)
        sigma = np.maximum(sd, c.minSigma)
        upper = mean + z * sigma
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = (obs[weeks - 1] - mean) / sigma
    else:
        upper, stat = _c3(obs, weeks, c.baseline, c.minSigma, z)
    rows = tuple(
        WeekResult(int(t), float(obs[t - 1]), float(u), _alarm(float(obs[t - 1]), float(u)), statistic=float(s))
        for t, u, s in zip(weeks, upper, stat, strict=True)
    )
    return DetectionResult("earsC", dataclasses.asdict(c), rows)


def _c3(obs: Array, weeks: NDArray[np.int64], baseline: int, min_sigma: float, z: float) -> tuple[Array, Array]:
    """C3's bound and statistic: C2 plus the positive parts of (C2 - 1) at lags 1 and 2."""
    ext = np.arange(weeks[0] - 2, weeks[-1] + 1)
    mean, sd = _mean_sd(obs, ext, baseline, 3)
    sigma = np.maximum(sd, min_sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        c2 = (obs[ext - 1] - mean) / sigma
    lag2 = np.maximum(0.0, c2[:-2] - 1.0)
    lag1 = np.maximum(0.0, c2[1:-1] - 1.0)
    with np.errstate(invalid="ignore"):
        upper = obs[weeks - 1] + sigma[2:] * (z - (lag2 + lag1))
        upper = np.where(np.isnan(upper), np.nan, np.maximum(0.0, upper))
    return upper, c2[2:] + lag1 + lag2
