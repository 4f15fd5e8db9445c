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


def _reference_index(weeks: np.ndarray, c: BayesControl, freq: int) -> np.ndarray:
    """0-based indices of each week's reference counts, one row per week (``t`` is 1-based)."""
    offsets = [np.arange(-c.w - 1, -1)] if c.actY else []
    offsets.extend(np.arange(-i * freq - c.w - 1, -i * freq + c.w) for i in range(1, c.b + 1))
    flat = np.concatenate(offsets) if offsets else np.empty(0, dtype=np.int64)
    return np.asarray(weeks[:, None] + flat[None, :], dtype=np.int64)


def _weeks(series: WeeklySeries, first: int, last: int, c: BayesControl) -> tuple[WeekResult, ...]:
    """All monitored weeks at once: the reference sums and sizes are one gather, only the
    quantile search runs per week."""
    obs = series.observed
    weeks = np.arange(first, last + 1)
    ref = obs[_reference_index(weeks, c, series.freq)]
    known = ~np.isnan(ref)
    sizes = np.where(known, ref, 0.0).sum(axis=1) + 0.5
    counts = known.sum(axis=1)
    out = []
    for i, t in enumerate(weeks):
        upper = qnbinom(1 - c.alpha, float(sizes[i]), int(counts[i]) / (int(counts[i]) + 1))
        y = float(obs[t - 1])
        alarm = None if math.isnan(y) or math.isnan(upper) else y > upper
        out.append(WeekResult(int(t), y, upper, alarm))
    return tuple(out)


def bayes(series: WeeklySeries, control: BayesControl | None = None) -> DetectionResult:
    """Run the Bayes detector over ``control.range`` (required, as in R)."""
    c = control or BayesControl()
    if c.range is None:
        raise ValueError("bayes needs a range (R has no default)")
    first, last = c.range
    if first - c.b * series.freq - c.w < 1 or last > len(series) or first > last:
        raise ValueError("the series is too short for this b, w and range")
    return DetectionResult("bayes", dataclasses.asdict(c), _weeks(series, first, last, c))
