"""``cusum`` (``algo.cusum``): Rossi et al.'s approximate CUSUM on transformed counts, as R.

The reference mean ``m`` is the mean of the weeks before the range, a given number, or a seasonal
Poisson GLM (``m = "glm"``: ``log m = a + b cos(2πt/freq) + c sin(2πt/freq)`` with
``t = start epoch + index - 1``). ``S_t = max(0, S_{t-1} + z_t - k)`` and the alarm is ``S_t >= h``;
the sum is never reset after an alarm. The bound is the count that would make ``S_t`` reach ``h``
(for ``standard``: ``ceil(sqrt(m)(h + k - S_{t-1}) + m)``); NA or negative bounds become 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from ._glm import glm_fit, linkinv, poisson_family
from .controls import CusumControl
from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["cusum"]

Array = NDArray[np.float64]


def _harmonic(t: Array, freq: int) -> Array:
    angle = 2 * np.pi / freq * t
    return np.column_stack([np.ones_like(t), np.cos(angle), np.sin(angle)])


def _reference_mean(series: WeeklySeries, c: CusumControl, first: int, last: int) -> Array:
    weeks = last - first + 1
    if c.m is None:
        return np.full(weeks, float(np.mean(series.observed[: first - 1])))
    if isinstance(c.m, int | float) and not isinstance(c.m, bool):
        return np.full(weeks, float(c.m))
    if c.m != "glm":
        raise ValueError("m must be a number, 'glm' or left out")
    epoch = series.start[1]
    train = epoch + np.arange(1, first, dtype=float) - 1
    fit = glm_fit(_harmonic(train, series.freq), series.observed[: first - 1], poisson_family("poisson"))
    if fit is None:
        raise ValueError("the seasonal Poisson model for m could not be fitted")
    new = epoch + np.arange(first, last + 1, dtype=float) - 1
    return linkinv(_harmonic(new, series.freq)[:, fit.kept] @ fit.coefficients)


def _transform(x: Array, m: Array, trans: str, alpha: float) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        if trans == "standard":
            return np.asarray((x - m) / np.sqrt(m))
        if trans == "rossi":
            return np.asarray((x - 3 * m + 2 * np.sqrt(x * m)) / (2 * np.sqrt(m)))
        if trans == "anscombe":
            return np.asarray(1.5 * (x ** (2 / 3) - m ** (2 / 3)) / m ** (1 / 6))
        if trans == "anscombe2nd":
            return np.asarray((x ** (2 / 3) - (m ** (2 / 3) - m ** (-1 / 3) / 9)) / (2 / 3 * m ** (1 / 6)))
        if trans == "pearsonNegBin":
            return np.asarray((x - m) / np.sqrt(m + alpha * m**2))
        if trans == "none":
            return x.copy()
    raise ValueError(f"unsupported trans {trans!r}")


def _bound(m: Array, prev: Array, stat: Array, c: CusumControl, alpha: float) -> Array:
    h, k = c.h, c.k
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.trans == "standard":
            u = np.ceil(np.sqrt(m) * (h + k - prev) + m)
        elif c.trans == "rossi":
            root = np.sqrt(m)
            u = 2 * h * root + 2 * k * root - 2 * prev * root + 5 * m
            u = u - 2 * np.sqrt(4 * m**2 + 2 * m**1.5 * (h + k - prev))
        elif c.trans in ("anscombe", "anscombe2nd"):
            shift = m ** (2 / 3) if c.trans == "anscombe" else m ** (2 / 3) - m ** (1 / 3) / 9
            base = 2 / 3 * m ** (1 / 6) * (h + k - prev) + shift
            u = np.where(base < 0, 0.0, np.abs(base) ** 1.5)
        elif c.trans == "pearsonNegBin":
            u = np.sqrt(m + alpha * m**2) * (h + k - prev) + m
        else:
            u = h - stat
    u = np.where(np.isnan(u), 0.0, u)
    return np.asarray(np.where(u < 0, 0.0, u), dtype=np.float64)


def cusum(series: WeeklySeries, control: CusumControl) -> DetectionResult:
    """Run the CUSUM over ``control.range`` (required, as in R's ``cusum``)."""
    c = control
    if c.range is None:
        raise ValueError("cusum needs a range (R has no default)")
    first, last = c.range
    if not 2 <= first <= last <= len(series):
        raise ValueError(f"range must lie within 2..{len(series)}")
    alpha = 0.1 if c.alpha is None else c.alpha
    m = _reference_mean(series, c, first, last)
    x = series.observed[first - 1 : last]
    z = _transform(x, m, c.trans, alpha)
    stat = np.zeros(x.shape[0] + 1)
    for i, zi in enumerate(z):
        step = stat[i] + (zi - c.k)
        stat[i + 1] = np.nan if np.isnan(step) else max(0.0, step)
    upper = _bound(m, stat[:-1], stat[1:], c, alpha)
    weeks = tuple(
        WeekResult(
            first + i,
            float(x[i]),
            float(upper[i]),
            _alarm(stat[i + 1], c.h),
            mu0=float(m[i]),
            statistic=float(stat[i + 1]),
        )
        for i in range(x.shape[0])
    )
    return DetectionResult("cusum", {**dataclasses.asdict(c), "alpha": alpha}, weeks)


def _alarm(s: float, h: float) -> bool | None:
    return None if np.isnan(s) else bool(s >= h)
