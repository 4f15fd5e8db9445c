"""Discrete quantiles with R's conventions, and R's NA-propagating ``max``.

R's ``qnbinom``/``qpois`` return the smallest x with ``P(X <= x) >= p * (1 - 64 * DBL_EPSILON)``;
the fuzz decides ties that scipy's ``ppf`` can resolve the other way, so we search with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

_EPS = float(np.finfo(float).eps)
_FUZZ = 1.0 - 64.0 * _EPS


def _search(cdf: Callable[[float], float], guess: float, p: float) -> float:
    """Smallest integer x >= 0 with ``cdf(x) >= p * fuzz``, bracketing from ``guess`` then bisecting."""
    target = p * _FUZZ
    x = max(0.0, math.floor(guess)) if math.isfinite(guess) else 0.0
    if cdf(x) >= target:
        lo, hi = -1.0, x
        step = 1.0
        while hi - step >= 0 and cdf(hi - step) >= target:
            hi -= step
            step *= 2
        lo = max(-1.0, hi - step)
    else:
        lo, step = x, 1.0
        while cdf(lo + step) < target:
            lo += step
            step *= 2
        hi = lo + step
    while hi - lo > 1:
        mid = math.floor((lo + hi) / 2)
        if not lo < mid < hi:
            break  # beyond 2**53 integers are no longer exact; R is approximate there too
        if cdf(mid) >= target:
            hi = mid
        else:
            lo = mid
    return float(hi)


def _guess(mean: float, var: float, p: float) -> float:
    return mean + float(special.ndtri(p)) * math.sqrt(var)


def qnbinom(p: float, size: float, prob: float) -> float:
    """``qnbinom(p, size, prob)`` (NaN for invalid parameters, as R)."""
    if math.isnan(p) or math.isnan(size) or math.isnan(prob):
        return float("nan")
    if not (0 < prob <= 1 and 0 <= p <= 1 and size >= 0):
        return float("nan")
    if math.isinf(size):
        return float("nan")
    if prob == 1 or p == 0 or size == 0:
        return 0.0
    if p + 1.01 * _EPS >= 1.0:
        return float("inf")
    mean = size * (1 - prob) / prob
    return _search(lambda x: float(special.betainc(size, x + 1, prob)), _guess(mean, mean / prob, p), p)


def qpois(p: float, lam: float) -> float:
    """``qpois(p, lambda)``."""
    if math.isnan(p) or math.isnan(lam) or not (lam >= 0 and 0 <= p <= 1) or math.isinf(lam):
        return float("nan")
    if lam == 0 or p == 0:
        return 0.0
    if p + 1.01 * _EPS >= 1.0:
        return float("inf")
    return _search(lambda x: float(special.pdtr(x, lam)), _guess(lam, lam, p), p)


def rmax(*values: float) -> float:
    """R's ``max``: NaN if any argument is NaN."""
    if any(math.isnan(v) for v in values):
        return float("nan")
    return max(values)
