"""The sequential statistics behind ``glrpois``/``glrnb`` (Höhle & Paul 2008), vectorised.

Each kernel scans one segment (the weeks since the last alarm) and returns the statistic per week
and the 1-based position of the first alarm (``len + 1`` when none), as R's C routines do:

* ``glr_poisson`` (compiled): ``max_k sup_κ Σ_{i=k..n} κ x_i + (1 - e^κ) μ_i`` with κ's closed-form MLE,
  clipped to the tested direction; alarm at ``>= c``. With a window ``M > 0`` the change point is
  at most ``M`` and at least ``Mtilde`` weeks back (R's ``glr_cusum_window``).
* ``glr_negbin``: the same for the negative binomial with dispersion α; κ by Newton's method
  (compiled, in ``_glr_compiled``).
* ``lr_poisson`` / ``lr_negbin``: CUSUMs of the log likelihood ratio for a known change θ;
  alarm at ``> c`` (strict, as R).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def poisson_glr_at(x: Array, mu: Array, n: int, direction: int, window: tuple[int, int] | None) -> float:
    """The Poisson GLR statistic at week ``n`` (0-based) of a segment (compiled, ``_glr_compiled``)."""
    from . import _glr_compiled as _nb  # numba loads only when a GLR detector runs

    big_m, m_tilde = window if window is not None else (0, 0)
    return float(_nb.poisson_glr_at(_f64(x), _f64(mu), n, direction, window is not None, big_m, m_tilde))


def glr_poisson(x: Array, mu: Array, c: float, m_tilde: int, big_m: int, direction: int) -> tuple[Array, int]:
    """Poisson GLR statistic per week of the segment, up to and including the first alarm."""
    from . import _glr_compiled as _nb

    val, n = _nb.glr_poisson_scan(_f64(x), _f64(mu), c, m_tilde, big_m, direction)
    return val, int(n)


def cases_poisson(x: Array, mu: Array, n: int, c: float, direction: int, window: tuple[int, int] | None) -> float:
    """Smallest count at week ``n`` whose statistic reaches ``c`` (``inc``) or falls to it (``dec``)."""

    def ok(v: float) -> bool:
        trial = x.copy()
        trial[n] = v
        g = poisson_glr_at(trial, mu, n, direction, window)
        return g >= c if direction == 1 else g <= c

    if ok(0.0):
        return 0.0
    hi = 1.0
    while not ok(hi):
        hi *= 2.0
        if hi > 2.0**52:
            return math.nan  # the statistic cannot reach c (degenerate mu0); R would loop forever
    lo = hi / 2.0 if hi > 1 else 0.0
    while hi - lo > 1:
        mid = math.floor((lo + hi) / 2)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def negbin_glr_at(x: Array, mu: Array, n: int, alpha: float, m_tilde: int, big_m: int, direction: int) -> float:
    """The negative binomial GLR statistic at week ``n`` (0-based) of a segment."""
    from . import _glr_compiled as _nb

    return float(_nb.negbin_glr_at(_f64(x), _f64(mu), n, alpha, m_tilde, big_m, direction))


def glr_negbin(
    x: Array, mu: Array, alpha: float, c: float, m_tilde: int, big_m: int, direction: int
) -> tuple[Array, int]:
    """Negative binomial GLR statistic per week of the segment, up to the first alarm (compiled:
    R's Newton chain per week and change point, see ``_glr_compiled``)."""
    from . import _glr_compiled as _nb

    val, n = _nb.glr_negbin_scan(_f64(x), _f64(mu), alpha, c, m_tilde, big_m, direction)
    return val, int(n)


def _f64(a: Array) -> Array:
    """One memory layout for the compiled kernels (each layout would be compiled anew)."""
    return np.ascontiguousarray(a, dtype=np.float64)


def lr_poisson(x: Array, mu: Array, theta: float, c: float) -> tuple[Array, Array, int]:
    """LR CUSUM for a known Poisson intercept change θ: statistic, cases to signal, alarm position."""
    z = theta * x + (1 - math.exp(theta)) * mu
    val = np.zeros(x.shape[0])
    cases = np.zeros(x.shape[0])
    prev = 0.0
    for n in range(x.shape[0]):
        cases[n] = (c - prev + mu[n] * (math.exp(theta) - 1)) / theta
        val[n] = max(0.0, prev + z[n])
        prev = val[n]
        if val[n] > c:
            return val, cases, n + 1
    return val, cases, x.shape[0] + 1


def lr_negbin(x: Array, mu: Array, alpha: float, theta: float, c: float) -> tuple[Array, Array, int]:
    """LR CUSUM for a known negative binomial intercept change θ (dispersion α)."""
    ratio = np.log((1 + alpha * mu) / (1 + alpha * mu * math.exp(theta)))
    z = theta * x + (x + 1 / alpha) * ratio
    val = np.zeros(x.shape[0])
    cases = np.zeros(x.shape[0])
    prev = 0.0
    for n in range(x.shape[0]):
        cases[n] = -(prev * alpha + ratio[n] - c * alpha) / alpha / (theta + ratio[n])
        val[n] = max(0.0, prev + z[n])
        prev = val[n]
        if val[n] > c:
            return val, cases, n + 1
    return val, cases, x.shape[0] + 1
