"""The sequential statistics behind ``glrpois``/``glrnb`` (Höhle & Paul 2008), vectorised.

Each kernel scans one segment (the weeks since the last alarm) and returns the statistic per week
and the 1-based position of the first alarm (``len + 1`` when none), as R's C routines do:

* ``glr_poisson``: ``max_k sup_κ Σ_{i=k..n} κ x_i + (1 - e^κ) μ_i`` with κ's closed-form MLE,
  clipped to the tested direction; alarm at ``>= c``. With a window ``M > 0`` the change point is
  at most ``M`` and at least ``Mtilde`` weeks back (R's ``glr_cusum_window``).
* ``glr_negbin``: the same for the negative binomial with dispersion α; κ by Newton's method.
* ``lr_poisson`` / ``lr_negbin``: CUSUMs of the log likelihood ratio for a known change θ;
  alarm at ``> c`` (strict, as R).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
_NEG = -1e99


def _first_alarm(val: Array, start: int, c: float, strict: bool) -> int:
    hits = np.flatnonzero(val[start:] > c) if strict else np.flatnonzero(val[start:] >= c)
    return int(hits[0]) + start + 1 if hits.size else val.shape[0] + 1


def _poisson_lr(sx: Array, sm: Array, direction: int) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = direction * np.maximum(0.0, direction * np.log(sx / sm))
        return np.asarray(kappa * sx + (1.0 - np.exp(kappa)) * sm, dtype=np.float64)


def _nanmax(values: Array) -> float:
    """``max`` the way the C loop keeps it: NaN never wins, -1e99 if nothing does."""
    finite = values[~np.isnan(values)]
    return max(_NEG, float(finite.max())) if finite.size else _NEG


def poisson_glr_at(x: Array, mu: Array, n: int, direction: int, window: tuple[int, int] | None) -> float:
    """The Poisson GLR statistic at week ``n`` (0-based) of a segment."""
    if window is None:
        sx = np.cumsum(x[n::-1])
        sm = np.cumsum(mu[n::-1])
    else:
        big_m, m_tilde = window
        low = max(0, n - big_m)
        sx = np.cumsum(x[n::-1])[m_tilde : n - low + 1]
        sm = np.cumsum(mu[n::-1])[m_tilde : n - low + 1]
    return _nanmax(_poisson_lr(sx, sm, direction))


def glr_poisson(x: Array, mu: Array, c: float, m_tilde: int, big_m: int, direction: int) -> tuple[Array, int]:
    """Poisson GLR statistic per week of the segment, up to and including the first alarm."""
    window = (big_m, m_tilde) if big_m > 0 else None
    start = m_tilde if window else max(m_tilde - 1, 0)
    val = np.zeros(x.shape[0])
    for n in range(start, x.shape[0]):
        val[n] = poisson_glr_at(x, mu, n, direction, window)
        if val[n] >= c:
            return val, n + 1
    return val, x.shape[0] + 1


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
    lo = hi / 2.0 if hi > 1 else 0.0
    while hi - lo > 1:
        mid = math.floor((lo + hi) / 2)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _nb_score(kappa: Array, x: Array, mu: Array, mask: Array, alpha: float) -> tuple[Array, Array]:
    e = np.exp(kappa)[:, None] * mu[None, :]
    d = 1.0 + alpha * e
    score = np.sum(mask * (x[None, :] - e) / d, axis=1)
    fisher = np.exp(kappa) * np.sum(mask * mu[None, :] * (alpha * x[None, :] + 1.0) / d**2, axis=1)
    return score, fisher


def _nb_kappa(x: Array, mu: Array, mask: Array, alpha: float) -> Array:
    """The NB intercept-change MLE per candidate change point (rows of ``mask``).

    The log likelihood is concave in κ, so Newton's method safeguarded by a shrinking bracket
    finds the root R's plain Newton iteration converges to, without its occasional overflow.
    Roots below -18 (where R stops iterating) are reported as -18: the tested direction clips them.
    """
    rows = mask.shape[0]
    kappa = np.full(rows, 0.5)
    lo = np.full(rows, -18.0)
    hi = np.full(rows, 50.0)
    active = np.ones(rows, dtype=bool)
    for _ in range(200):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        kap = kappa[idx]
        score, fisher = _nb_score(kap, x, mu, mask[idx], alpha)
        up = score > 0
        lo[idx] = np.where(up, kap, lo[idx])
        hi[idx] = np.where(up, hi[idx], kap)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = kap + score / fisher
        bad = ~np.isfinite(newton) | (newton <= lo[idx]) | (newton >= hi[idx])
        new = np.where(bad, (lo[idx] + hi[idx]) / 2.0, newton)
        kappa[idx] = new
        done = (np.abs(new - kap) <= 1e-12) | (hi[idx] - lo[idx] <= 1e-12) | (hi[idx] <= -18.0)
        active[idx[done]] = False
    return kappa


def negbin_glr_at(x: Array, mu: Array, n: int, alpha: float, m_tilde: int, big_m: int, direction: int) -> float:
    """The negative binomial GLR statistic at week ``n`` (0-based) of a segment."""
    low = 0 if big_m == -1 else max(0, n - big_m)
    up = n - (m_tilde - 1)
    if up < low:
        return _NEG
    xs, ms = x[: n + 1], mu[: n + 1]
    ks = np.arange(low, up + 1)
    mask = (np.arange(n + 1)[None, :] >= ks[:, None]).astype(float)
    kappa = direction * np.maximum(0.0, direction * _nb_kappa(xs, ms, mask, alpha))
    ratio = np.log((1 + alpha * ms[None, :]) / (1 + alpha * ms[None, :] * np.exp(kappa)[:, None]))
    lnk = np.sum(mask * (kappa[:, None] * xs[None, :] + (xs[None, :] + 1 / alpha) * ratio), axis=1)
    return _nanmax(lnk)


def glr_negbin(
    x: Array, mu: Array, alpha: float, c: float, m_tilde: int, big_m: int, direction: int
) -> tuple[Array, int]:
    """Negative binomial GLR statistic per week of the segment, up to the first alarm."""
    val = np.zeros(x.shape[0])
    for n in range(max(m_tilde - 1, 0), x.shape[0]):
        val[n] = negbin_glr_at(x, mu, n, alpha, m_tilde, big_m, direction)
        if val[n] >= c:
            return val, n + 1
    return val, x.shape[0] + 1


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
