"""``bayes`` (``algo.bayes``): the negative binomial predictive quantile of Riebler (2004).

With reference counts from the ``w`` previous weeks (if ``actY``) and the windows of ``2w+1`` weeks
around the same week in each of ``b`` past years, a flat prior gives a negative binomial predictive
distribution with size ``Σref + 1/2`` and probability ``n/(n+1)``. The bound is its ``1 - alpha``
quantile and the alarm is strict: ``y > U``. Presets Bayes 1/2/3 are (b, w, actY) = (0, 6, T),
(1, 6, T), (2, 4, F). Like R, reference weeks are found by index even for dated series.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._quantiles import qnbinom
from .controls import BayesControl
from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["bayes"]


def _reference(obs: np.ndarray, t: int, c: BayesControl, freq: int) -> np.ndarray:
    parts = [obs[t - c.w - 1 : t - 1]] if c.actY else []
    parts.extend(obs[t - i * freq - c.w - 1 : t - i * freq + c.w] for i in range(1, c.b + 1))
    return np.concatenate(parts) if parts else np.empty(0)


def _week(series: WeeklySeries, t: int, c: BayesControl) -> WeekResult:
    ref = _reference(series.observed, t, c, series.freq)
    ref = ref[~np.isnan(ref)]
    size = float(np.sum(ref)) + 0.5
    upper = qnbinom(1 - c.alpha, size, ref.shape[0] / (ref.shape[0] + 1))
    y = float(series.observed[t - 1])
    alarm = None if math.isnan(y) or math.isnan(upper) else y > upper
    return WeekResult(t, y, upper, alarm)


def bayes(series: WeeklySeries, control: BayesControl | None = None) -> DetectionResult:
    """Run the Bayes detector over ``control.range`` (required, as in R)."""
    c = control or BayesControl()
    if c.range is None:
        raise ValueError("bayes needs a range (R has no default)")
    first, last = c.range
    if first - c.b * series.freq - c.w < 1 or last > len(series) or first > last:
        raise ValueError("the series is too short for this b, w and range")
    weeks = tuple(_week(series, t, c) for t in range(first, last + 1))
    return DetectionResult("bayes", dataclasses.asdict(c), weeks)
