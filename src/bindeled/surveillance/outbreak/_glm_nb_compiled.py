"""``MASS::glm.nb`` compiled with numba, step for step as ``_glm.glm_nb`` (and R) take it.

Why compiled: glm.nb is a Poisson IRLS, then up to 25 rounds of ``theta.ml`` (Newton on the size,
a digamma and a trigamma per distinct count per step) alternating with a negative binomial IRLS.
For the few hundred weeks and handful of columns the GLR detectors fit, NumPy's per-call
overhead was the whole cost; here the same iterations run in one compiled call.

Same path as R: the Poisson start ``y + 0.1``, IRLS from ``log(mu)`` of the previous fit, R's
convergence test on the deviance (``|dev - devold| / (|dev| + 0.1) < 1e-8``, at most 25 steps),
``theta.ml`` with the previous fit's ``mu`` to ``eps^(1/4)``, and the alternation's stop on the
log-likelihood and θ. The weighted least squares step solves ``X'WX`` by Cholesky, as
``_glm._wls`` does on its fast path. Whatever leaves that common path — a design column near
aliasing, an invalid deviance that R would answer by step halving, a non-finite or non-positive θ
— returns ``OFF_PATH`` and the caller fits with the NumPy implementation, which handles those
cases the way R does. Unit prior weights and no offset (what the GLR detectors use).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled
from ._polygamma import digamma, trigamma

Array = NDArray[np.float64]

OK = 0
OFF_PATH = 1
"""The fit left the common path: refit with ``_glm.glm_nb``."""

_EPSILON = 1e-8
_MAXIT = 25
_DBL_EPS = 2.220446049250313e-16
_THETA_EPS = _DBL_EPS**0.25
_CHOLESKY_MIN_RATIO = 1e-4
_POISSON = 0
_NEGBIN = 1


@compiled
def _deviance(y: Array, mu: Array, family: int, theta: float) -> float:
    """Sum of the deviance residuals (``poisson()`` or ``negative.binomial(theta)``)."""
    total = 0.0
    for i in range(y.shape[0]):
        if family == _POISSON:
            ylogy = y[i] * math.log(y[i] / mu[i]) if y[i] != 0.0 else 0.0
            total += 2.0 * (ylogy - (y[i] - mu[i]))
        else:
            a = y[i] * math.log(max(1.0, y[i]) / mu[i])
            b = (y[i] + theta) * math.log((y[i] + theta) / (mu[i] + theta))
            total += 2.0 * (a - b)
    return total


@compiled
def _wls_cholesky(xw: Array, zw: Array, coef: Array, r: Array) -> bool:
    """Solve ``X'WX b = X'Wz`` into ``coef`` via the upper Cholesky factor ``r``; False where
    ``_glm._wls`` would take its QR path (not positive definite or a column near aliasing)."""
    n, p = xw.shape
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    for a in range(p):
        for i in range(n):
            rhs[a] += xw[i, a] * zw[i]
        for b in range(a, p):
            s = 0.0
            for i in range(n):
                s += xw[i, a] * xw[i, b]
            gram[a, b] = s
    r[:, :] = 0.0
    for j in range(p):
        s = gram[j, j]
        for k in range(j):
            s -= r[k, j] * r[k, j]
        if not s > 0.0:
            return False
        r[j, j] = math.sqrt(s)
        if not r[j, j] > _CHOLESKY_MIN_RATIO * math.sqrt(gram[j, j]):
            return False
        for i in range(j + 1, p):
            s = gram[j, i]
            for k in range(j):
                s -= r[k, j] * r[k, i]
            r[j, i] = s / r[j, j]
    for j in range(p):  # R'u = X'Wz
        s = rhs[j]
        for k in range(j):
            s -= r[k, j] * coef[k]
        coef[j] = s / r[j, j]
    for j in range(p - 1, -1, -1):  # R b = u
        s = coef[j]
        for k in range(j + 1, p):
            s -= r[j, k] * coef[k]
        coef[j] = s / r[j, j]
    return True


@compiled
def _irls(x: Array, y: Array, family: int, theta: float, eta: Array, out: Array, w: Array, r: Array) -> int:
    """``glm.fit`` from ``eta``: coefficients into ``out``, the last step's ``sqrt`` working weights
    into ``w`` and Cholesky factor into ``r``, the final ``eta`` left in ``eta``. Returns 1 when
    converged, 0 when not, -1 when off the common path."""
    n, p = x.shape
    mu = np.empty(n)
    for i in range(n):
        mu[i] = max(math.exp(eta[i]), _DBL_EPS)
    devold = _deviance(y, mu, family, theta)
    xw = np.empty((n, p))
    zw = np.empty(n)
    for _ in range(_MAXIT):
        for i in range(n):
            z = eta[i] + (y[i] - mu[i]) / mu[i]
            var = mu[i] if family == _POISSON else mu[i] + mu[i] * mu[i] / theta
            w[i] = math.sqrt(mu[i] ** 2 / var)
            zw[i] = z * w[i]
            for j in range(p):
                xw[i, j] = x[i, j] * w[i]
        if not _wls_cholesky(xw, zw, out, r):
            return -1
        total = 0.0
        for i in range(n):
            e = 0.0
            for j in range(p):
                e += x[i, j] * out[j]
            eta[i] = e
            mu[i] = max(math.exp(e), _DBL_EPS)
            total += mu[i]
        dev = _deviance(y, mu, family, theta)
        if not (math.isfinite(dev) and math.isfinite(total)):
            return -1  # R would halve the step: the NumPy path does
        if abs(dev - devold) / (abs(dev) + 0.1) < _EPSILON:
            return 1
        devold = dev
    return 0


@compiled
def _theta_ml(y: Array, mu: Array, counts: Array, where: NDArray[np.intp]) -> float:
    """``MASS::theta.ml`` with unit weights and ``limit = 25`` (see ``_glm.theta_ml``)."""
    n = y.shape[0]
    s = 0.0
    for i in range(n):
        s += (y[i] / mu[i] - 1.0) ** 2
    t0 = n / s
    dig = np.empty(counts.shape[0])
    trig = np.empty(counts.shape[0])
    it = 0
    delta = 1.0
    while True:
        it += 1
        if not (it < _MAXIT and abs(delta) > _THETA_EPS):
            break
        t0 = abs(t0)
        if not (t0 > 0.0 and math.isfinite(t0)):
            return math.nan  # NumPy's theta.ml takes it from here, with scipy's edge values
        for c in range(counts.shape[0]):
            dig[c] = digamma(t0 + counts[c])
            trig[c] = trigamma(t0 + counts[c])
        dg0 = digamma(t0)
        tg0 = trigamma(t0)
        log_t0 = math.log(t0)
        score = 0.0
        info = 0.0
        for i in range(n):
            mu_t0 = mu[i] + t0
            ratio = (y[i] + t0) / mu_t0
            score += dig[where[i]] - dg0 + log_t0 + 1.0 - math.log(mu_t0) - ratio
            info += -trig[where[i]] + tg0 - 1.0 / t0 + 2.0 / mu_t0 - (y[i] + t0) / mu_t0**2
        delta = score / info
        t0 = t0 + delta
    return float(t0)


@compiled
def _loglik(theta: float, mu: Array, y: Array) -> float:
    """glm.nb's ``loglik`` with unit weights."""
    total = 0.0
    for i in range(y.shape[0]):
        total += (
            math.lgamma(theta + y[i])
            - math.lgamma(theta)
            - math.lgamma(y[i] + 1.0)
            + theta * math.log(theta)
            + y[i] * math.log(mu[i] + (1.0 if y[i] == 0.0 else 0.0))
            - (theta + y[i]) * math.log(theta + mu[i])
        )
    return total


@compiled
def glm_nb(
    x: Array, y: Array, counts: Array, where: NDArray[np.intp]
) -> tuple[int, Array, Array, Array, Array, bool, float]:
    """``(status, coefficients, eta, sqrt working weights, Cholesky factor, converged, theta)`` of
    the final negative binomial fit; ``counts``/``where`` are ``np.unique(y, return_inverse=True)``."""
    n, p = x.shape
    coef = np.zeros(p)
    w = np.zeros(n)
    r = np.zeros((p, p))
    eta = np.empty(n)
    for i in range(n):
        eta[i] = math.log(y[i] + 0.1)
    state = _irls(x, y, _POISSON, 0.0, eta, coef, w, r)
    mu = np.empty(n)
    for i in range(n):
        mu[i] = max(math.exp(eta[i]), _DBL_EPS)
    theta = _theta_ml(y, mu, counts, where)
    if state < 0 or not (math.isfinite(theta) and theta > 0.0):
        return OFF_PATH, coef, eta, w, r, False, theta
    d1 = math.sqrt(2.0 * max(1, n - p))
    d2 = 1.0
    delta = 1.0
    lm = _loglik(theta, mu, y)
    lm0 = lm + 2.0 * d1
    it = 0
    while True:
        it += 1
        if not (it <= _MAXIT and (abs(lm0 - lm) / d1 + abs(delta) / d2) > _EPSILON):
            break
        for i in range(n):
            eta[i] = math.log(mu[i])
        state = _irls(x, y, _NEGBIN, theta, eta, coef, w, r)
        if state < 0:
            return OFF_PATH, coef, eta, w, r, False, theta
        t0 = theta
        theta = _theta_ml(y, mu, counts, where)
        if not (math.isfinite(theta) and theta > 0.0):
            return OFF_PATH, coef, eta, w, r, False, theta
        for i in range(n):
            mu[i] = max(math.exp(eta[i]), _DBL_EPS)
        delta = t0 - theta
        lm0 = lm
        lm = _loglik(theta, mu, y)
    return OK, coef, eta, w, r, state == 1, theta
