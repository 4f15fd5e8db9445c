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


def _nb_newton(kappa: Array, x: Array, mu: Array, mask: NDArray[np.bool_], alpha: float) -> Array:
    """R's Newton iteration for the NB intercept change, one row of ``mask`` per chain.

    Copied step for step (start, tolerance 1e-6 on κ, stop below -18, NaN ends the loop) because
    R's result depends on it: where the plain iteration diverges R reports κ = 0, not the MLE.
    Every chain is stepped each round and a finished one keeps its value: the arrays are a few
    dozen wide, so selecting the active rows would cost more than the arithmetic it saves.
    """
    new = kappa.copy()
    active = (new > -18) & (np.abs(new - 0.4) > 1e-6)
    mu_ax = mu * (alpha * x + 1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(1000):
            if not active.any():
                break
            ek = np.exp(new)
            e = ek[:, None] * mu
            d = 1.0 + alpha * e
            score = np.where(mask, (x - e) / d, 0.0).sum(axis=1)
            fisher = ek * np.where(mask, mu_ax / (d * d), 0.0).sum(axis=1)
            step = new + score / fisher
            moving = (step > -18) & (np.abs(step - new) > 1e-6)
            new = np.where(active, step, new)
            active &= moving
    return new


def _fmax0(values: Array, direction: int) -> Array:
    """``dir * fmax(0, dir * v)`` with C's ``fmax`` (a NaN argument loses)."""
    v = direction * values
    return np.asarray(direction * np.where(np.isnan(v), 0.0, np.maximum(0.0, v)), dtype=np.float64)


def _nb_lnk(kappa: Array, x: Array, mu: Array, mask: NDArray[np.bool_], alpha: float) -> Array:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = np.log((1 + alpha * mu) / (1 + alpha * mu * np.exp(kappa)[:, None]))
        terms = kappa[:, None] * x + (x + 1 / alpha) * ratio
    return np.asarray(np.where(mask, terms, 0.0).sum(axis=1), dtype=np.float64)


def negbin_glr_block(
    x: Array, mu: Array, ns: NDArray[np.int64], alpha: float, m_tilde: int, big_m: int, direction: int
) -> Array:
    """The NB GLR statistic at each week in ``ns`` (0-based), R's chains run side by side.

    For change point ``k`` only weeks ``k..max(ns)`` enter the sums, so the arrays are cut to
    those columns; ``mask`` then keeps each chain's own range ``k..n``.
    """
    lows = np.zeros_like(ns) if big_m == -1 else np.maximum(0, ns - big_m)
    ups = ns - (m_tilde - 1)
    best = np.full(ns.shape[0], _NEG)
    kappa = np.full(ns.shape[0], 0.5)
    width = int(ns.max()) + 1
    cols = np.arange(width)
    for k in range(int(lows.min()), int(ups.max()) + 1):
        rows = np.flatnonzero((lows <= k) & (k <= ups))
        if rows.size == 0:
            continue
        mask = cols[None, k:] <= ns[rows, None]
        xs, ms = x[k:width], mu[k:width]
        kappa[rows] = _fmax0(_nb_newton(kappa[rows], xs, ms, mask, alpha), direction)
        lnk = _nb_lnk(kappa[rows], xs, ms, mask, alpha)
        better = lnk > best[rows]
        best[rows[better]] = lnk[better]
    return best


def negbin_glr_at(x: Array, mu: Array, n: int, alpha: float, m_tilde: int, big_m: int, direction: int) -> float:
    """The negative binomial GLR statistic at week ``n`` (0-based) of a segment."""
    return float(negbin_glr_block(x, mu, np.array([n]), alpha, m_tilde, big_m, direction)[0])


def glr_negbin(
    x: Array, mu: Array, alpha: float, c: float, m_tilde: int, big_m: int, direction: int, block: int = 32
) -> tuple[Array, int]:
    """Negative binomial GLR statistic per week of the segment, up to the first alarm.

    Weeks are computed a block at a time, so little work is wasted past an alarm; a block of 32
    takes a half year of monitored weeks in one pass over the change points.
    """
    val = np.zeros(x.shape[0])
    start = max(m_tilde - 1, 0)
    for lo in range(start, x.shape[0], block):
        ns = np.arange(lo, min(lo + block, x.shape[0]))
        val[ns] = negbin_glr_block(x, mu, ns, alpha, m_tilde, big_m, direction)
        hits = np.flatnonzero(val[ns] >= c)
        if hits.size:
            n = int(ns[hits[0]])
            val[n + 1 :] = 0.0
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
