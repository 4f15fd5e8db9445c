"""``glrnb`` and ``glrpois`` (``algo.glrnb``): GLR detectors for an increase in the intercept.

The in-control mean ``mu0`` comes from a GLM on the weeks before the range,
``y ~ 1 (+ t) + Σ_s cos(2πst/freq) + sin(2πst/freq)`` (t = week index), fitted as Poisson
(``alpha = 0``), negative binomial with known ``alpha``, or by ``MASS::glm.nb`` when ``alpha`` is
left out (its estimate then fixes ``alpha``). The statistic runs until it reaches ``c.ARL``; after
an alarm it restarts the next week on the remaining weeks with the remaining ``mu0`` (or a refitted
model when ``mu0 = {"refit": true}``). ``upperbound`` is the statistic (``ret = "value"``) or the
count that would have signalled (``ret = "cases"``); NA or negative values become 0, as in R.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from . import _glr_kernels as k
from ._glm import glm_fit, glm_nb, linkinv, negbin_family, poisson_family
from .controls import GlrControl, Mu0Model
from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["glrnb", "glrpois"]

Array = NDArray[np.float64]


def _design(t: Array, model: Mu0Model, freq: int) -> Array:
    cols = [np.ones_like(t)]
    if model.trend:
        cols.append(t)
    for s in range(1, model.S + 1):
        angle = 2 * s * np.pi / freq * t
        cols.extend([np.cos(angle), np.sin(angle)])
    return np.column_stack(cols)


def estimate_mu0(
    series: WeeklySeries, first: int, last: int, model: Mu0Model, alpha: float | None
) -> tuple[Array, float | None]:
    """Predicted in-control means for weeks ``first..last`` from weeks ``1..first-1``; with
    ``alpha=None`` also the ``glm.nb`` estimate ``1/theta``."""
    train = np.arange(1, first, dtype=float)
    x = _design(train, model, series.freq)
    y = series.observed[: first - 1]
    if alpha is None:
        nb = glm_nb(x, y)
        if nb is None:
            raise ValueError("glm.nb could not fit the in-control model")
        fit, theta = nb
        alpha = 1.0 / theta
    else:
        family = poisson_family("poisson") if alpha == 0 else negbin_family(1.0 / alpha)
        got = glm_fit(x, y, family)
        if got is None:
            raise ValueError("the in-control model could not be fitted")
        fit = got
    new = _design(np.arange(first, last + 1, dtype=float), model, series.freq)
    return linkinv(new[:, fit.kept] @ fit.coefficients), alpha


def _segment(x: Array, mu: Array, c: GlrControl, alpha: float, direction: int) -> tuple[Array, int]:
    """Run one segment: (upperbound values, 1-based alarm position or len + 1)."""
    if c.theta is not None:
        if alpha == 0:
            val, cases, n = k.lr_poisson(x, mu, c.theta, c.c_ARL)
        else:
            val, cases, n = k.lr_negbin(x, mu, alpha, c.theta, c.c_ARL)
        return (val if c.ret == "value" else cases), n
    if alpha == 0:
        val, n = k.glr_poisson(x, mu, c.c_ARL, c.Mtilde, c.M, direction)
        if c.ret == "value":
            return val, n
        window = (c.M, c.Mtilde) if c.M > 0 else None
        start = c.Mtilde if window else max(c.Mtilde - 1, 0)
        cases = np.zeros(x.shape[0])
        for i in range(start, min(n, x.shape[0])):
            cases[i] = k.cases_poisson(x, mu, i, c.c_ARL, direction, window)
        return cases, n
    val, n = k.glr_negbin(x, mu, alpha, c.c_ARL, c.Mtilde, c.M, direction)
    if c.ret == "value":
        return val, n
    return _negbin_cases(x, mu, alpha, c, direction, n), n


def _negbin_cases(x: Array, mu: Array, alpha: float, c: GlrControl, direction: int, n_alarm: int) -> Array:
    """R's brute force: move each week's count one at a time until the alarm status flips."""
    cases = np.zeros(x.shape[0])
    for pos in range(min(x.shape[0], n_alarm)):
        alarmed = n_alarm <= pos + 1
        step = -1.0 if alarmed else 1.0
        trial = x.copy()
        found = math.nan if alarmed else 1e99
        while trial[pos] <= c.xMax and trial[pos] >= 1:
            trial[pos] += step
            g = k.negbin_glr_at(trial, mu, pos, alpha, c.Mtilde, c.M, direction)
            if not alarmed and g >= c.c_ARL:
                found = trial[pos]
                break
            if alarmed and g < c.c_ARL:
                found = trial[pos] + 1
                break
        cases[pos] = found
    return cases


def _check(c: GlrControl) -> None:
    if c.change != "intercept":
        raise ValueError("only change = 'intercept' is supported")
    if c.dir not in ("inc", "dec"):
        raise ValueError("dir must be 'inc' or 'dec'")
    if c.ret not in ("value", "cases"):
        raise ValueError("ret must be 'value' or 'cases'")
    if c.theta is not None and c.theta == 1:
        raise ValueError("theta has to be larger than 1")
    if c.Mtilde < 1:
        raise ValueError("Mtilde must be at least 1")


def _run(series: WeeklySeries, c: GlrControl, method: str) -> DetectionResult:
    _check(c)
    if c.range is None:
        raise ValueError(f"{method} needs a range (R has no default)")
    first, last = c.range
    if not 2 <= first <= last <= len(series):
        raise ValueError(f"range must lie within 2..{len(series)}")
    model = c.mu0 if isinstance(c.mu0, Mu0Model) else (Mu0Model() if c.mu0 is None else None)
    alpha = c.alpha
    if model is None:
        mu0 = np.asarray(c.mu0, dtype=np.float64)
        if mu0.shape[0] != last - first + 1:
            raise ValueError("mu0 needs one value per monitored week")
        if alpha is None:
            raise ValueError("alpha is required when mu0 is given")
    else:
        mu0, alpha = estimate_mu0(series, first, last, model, alpha)
    assert alpha is not None
    direction = 1 if c.dir == "inc" else -1
    x = series.observed[first - 1 : last]
    total = x.shape[0]
    upper = np.zeros(total)
    alarm = np.zeros(total, dtype=bool)
    done = 0
    while done < total:
        val, n = _segment(x[done:], mu0[done:], c, alpha, direction)
        if n > total - done:
            upper[done:] = val
            break
        upper[done : done + n] = val[:n]
        alarm[done + n - 1] = True
        done += n
        if model is not None and model.refit and done < total:
            mu0[done:], _ = estimate_mu0(series, first + done, last, model, alpha)
    upper = np.where(np.isnan(upper) | (upper < 0), 0.0, upper)
    weeks = tuple(
        WeekResult(first + i, float(x[i]), float(upper[i]), bool(alarm[i]), mu0=float(mu0[i]), statistic=None)
        for i in range(total)
    )
    used = {**dataclasses.asdict(c), "alpha": alpha, "mu0": [float(v) for v in mu0]}
    return DetectionResult(method, used, weeks)


def glrnb(series: WeeklySeries, control: GlrControl) -> DetectionResult:
    """Negative binomial GLR (``alpha`` estimated by ``glm.nb`` if left out; 0 means Poisson)."""
    return _run(series, control, "glrnb")


def glrpois(series: WeeklySeries, control: GlrControl) -> DetectionResult:
    """Poisson GLR: ``glrnb`` with ``alpha = 0``."""
    if control.alpha not in (None, 0, 0.0):
        raise ValueError("glrpois has to operate with alpha = 0")
    return _run(series, dataclasses.replace(control, alpha=0.0), "glrpois")
