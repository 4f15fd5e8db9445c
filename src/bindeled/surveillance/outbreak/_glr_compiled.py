"""The negative binomial GLR scan compiled with numba: R's C loops, one week and change point at a time.

Why compiled: the statistic at week ``n`` maximises over change points ``k`` a likelihood ratio
whose κ comes from a Newton chain that must follow R's steps exactly (start, tolerance, the stop
below -18, NaN ending the loop, and κ carried from one change point to the next), because where
the plain iteration diverges R reports κ = 0 rather than the MLE. That is a few hundred short,
dependent loops per series: in NumPy the call overhead is the whole cost, compiled it is
microseconds. Sums run in index order, as in R's C code.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled as _compiled

Array = NDArray[np.float64]
_NEG = -1e99


@_compiled
def _newton(kappa: float, x: Array, mu: Array, lo: int, hi: int, alpha: float) -> float:
    """R's Newton iteration for the intercept change on weeks ``lo..hi`` (inclusive)."""
    new = kappa
    if not (new > -18.0 and abs(new - 0.4) > 1e-6):
        return new
    for _ in range(1000):
        ek = math.exp(new)
        score = 0.0
        fisher = 0.0
        for j in range(lo, hi + 1):
            e = ek * mu[j]
            d = 1.0 + alpha * e
            score += (x[j] - e) / d
            fisher += mu[j] * (alpha * x[j] + 1.0) / (d * d)
        step = new + score / (ek * fisher)
        moving = step > -18.0 and abs(step - new) > 1e-6
        new = step
        if not moving:
            break
    return new


@_compiled
def _lnk(kappa: float, x: Array, mu: Array, lo: int, hi: int, alpha: float) -> float:
    total = 0.0
    ek = math.exp(kappa)
    for j in range(lo, hi + 1):
        ratio = math.log((1.0 + alpha * mu[j]) / (1.0 + alpha * mu[j] * ek))
        total += kappa * x[j] + (x[j] + 1.0 / alpha) * ratio
    return total


@_compiled
def negbin_glr_at(x: Array, mu: Array, n: int, alpha: float, m_tilde: int, big_m: int, direction: int) -> float:
    """The NB GLR statistic at week ``n`` (0-based) of a segment: the best change point's
    likelihood ratio, NaN never winning and -1e99 if nothing does."""
    low = 0 if big_m == -1 else max(0, n - big_m)
    best = _NEG
    kappa = 0.5
    for k in range(low, n - (m_tilde - 1) + 1):
        v = direction * _newton(kappa, x, mu, k, n, alpha)
        kappa = direction * (0.0 if math.isnan(v) else max(0.0, v))
        lnk = _lnk(kappa, x, mu, k, n, alpha)
        if lnk > best:  # noqa: PLR1730 -- NaN must never win, whatever max() does with it
            best = lnk
    return best


@_compiled
def glr_negbin_scan(
    x: Array, mu: Array, alpha: float, c: float, m_tilde: int, big_m: int, direction: int
) -> tuple[Array, int]:
    """The statistic per week of the segment up to the first alarm (``>= c``) and its 1-based
    position, ``len + 1`` when none; weeks after the alarm stay 0."""
    val = np.zeros(x.shape[0])
    for n in range(max(m_tilde - 1, 0), x.shape[0]):
        val[n] = negbin_glr_at(x, mu, n, alpha, m_tilde, big_m, direction)
        if val[n] >= c:
            return val, n + 1
    return val, x.shape[0] + 1


@_compiled
def poisson_glr_at(x: Array, mu: Array, n: int, direction: int, windowed: bool, big_m: int, m_tilde: int) -> float:
    """The Poisson GLR statistic at week ``n`` (0-based): change points ``k = n, n-1, …`` with the
    closed-form κ, or with a window only ``k`` from ``n - m_tilde`` down to ``max(0, n - big_m)``."""
    low = max(0, n - big_m) if windowed else 0
    skip = m_tilde if windowed else 0
    best = _NEG
    sx = 0.0
    sm = 0.0
    for back in range(n - low + 1):
        sx += x[n - back]
        sm += mu[n - back]
        if back < skip:
            continue
        v = direction * math.log(sx / sm)
        kappa = direction * (v if math.isnan(v) else max(0.0, v))
        lr = kappa * sx + (1.0 - math.exp(kappa)) * sm
        if lr > best:  # noqa: PLR1730 -- NaN must never win, whatever max() does with it
            best = lr
    return best


@_compiled
def glr_poisson_scan(x: Array, mu: Array, c: float, m_tilde: int, big_m: int, direction: int) -> tuple[Array, int]:
    """The Poisson statistic per week up to the first alarm (``>= c``) and its 1-based position."""
    windowed = big_m > 0
    val = np.zeros(x.shape[0])
    for n in range(m_tilde if windowed else max(m_tilde - 1, 0), x.shape[0]):
        val[n] = poisson_glr_at(x, mu, n, direction, windowed, big_m, m_tilde)
        if val[n] >= c:
            return val, n + 1
    return val, x.shape[0] + 1
