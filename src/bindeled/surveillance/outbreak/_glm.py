"""Log-link GLMs fitted the way R's ``glm.fit`` fits them, so that results agree to rounding.

Why our own IRLS instead of statsmodels: R's outbreak detectors read quantities that depend on
the exact iteration path — the working weights and the QR factor come from the *last* iteration
(one step behind the returned fitted values), convergence is declared on the relative change of
the deviance (``|dev - devold| / (|dev| + 0.1) < 1e-8``) after at most 25 steps, and the start is
``mustart`` (``y + 0.1`` for the Poisson families). Matching those details is what makes the
thresholds agree with R to 1e-6 instead of 1e-4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special
from scipy.linalg import lapack

Array = NDArray[np.float64]

EPSILON = 1e-8
"""``glm.control()$epsilon``."""
MAXIT = 25
"""``glm.control()$maxit``."""
_DBL_EPS = float(np.finfo(float).eps)
_QR_TOL = 1e-11
"""``min(1e-7, epsilon / 1000)``: R's rank tolerance in ``Cdqrls``."""


@dataclass(frozen=True, slots=True)
class Family:
    """A log-link count family: the variance function, the deviance residuals and the start."""

    name: str
    variance: Callable[[Array], Array]
    dev_resids: Callable[[Array, Array, Array], Array]
    mustart: Callable[[Array], Array]


def linkinv(eta: Array) -> Array:
    """R's log-link inverse (also its ``mu.eta``): ``pmax(exp(eta), .Machine$double.eps)``."""
    with np.errstate(over="ignore"):
        return np.asarray(np.maximum(np.exp(eta), _DBL_EPS), dtype=np.float64)


def _exp_floor(eta: Array) -> Array:
    """``linkinv`` without its ``errstate`` guard, for the IRLS loop that holds one already."""
    return np.maximum(np.exp(eta), _DBL_EPS)


def _poisson_dev(y: Array, mu: Array, wt: Array) -> Array:
    # Called only inside glm_fit, whose errstate covers y == 0 and overflow.
    ylogy = special.xlogy(y, y / mu)
    return np.asarray(2.0 * wt * (ylogy - (y - mu)), dtype=np.float64)


def poisson_family(name: str = "quasipoisson") -> Family:
    """Poisson or quasi-Poisson with log link (they fit identically; only the dispersion differs)."""
    return Family(name, lambda mu: mu, _poisson_dev, lambda y: y + 0.1)


def negbin_family(theta: float) -> Family:
    """``MASS::negative.binomial(theta)`` with log link."""

    def dev(y: Array, mu: Array, wt: Array) -> Array:
        # Called only inside glm_fit, whose errstate covers overflow and log(0).
        a = y * np.log(np.maximum(1.0, y) / mu)
        b = (y + theta) * np.log((y + theta) / (mu + theta))
        return 2.0 * wt * (a - b)

    return Family(f"negbin({theta})", lambda mu: mu + mu * mu / theta, dev, lambda y: y + (y == 0) / 6.0)


@dataclass(frozen=True, slots=True)
class GlmFit:
    """What the detectors need from a fitted GLM, named as in R's ``glm`` object."""

    coefficients: Array
    """Estimates for the kept columns (aliased columns are dropped, see ``kept``)."""
    kept: NDArray[np.bool_]
    """Which design columns were estimable (R reports the others as ``NA``)."""
    fitted: Array
    working_weights: Array
    """``weights`` of the R object: prior weights times ``mu`` of the last iteration."""
    working_residuals: Array
    """``residuals`` of the R object: ``(y - mu) / mu`` at the final ``mu``."""
    cov_unscaled: Array
    """``(X'WX)^-1`` from the last iteration's QR, for the kept columns."""
    df_residual: int
    converged: bool
    y: Array
    prior_weights: Array

    def pearson_dispersion(self, weights: Array | None = None) -> float:
        """``summary.glm(...)$dispersion``: Σ w r² / df over positive weights (working weights by default)."""
        w = self.working_weights if weights is None else weights
        if self.df_residual <= 0:
            return float("nan")
        keep = w > 0
        return float(np.sum((w * self.working_residuals**2)[keep]) / self.df_residual)

    def hat_values(self, x: Array) -> Array:
        """``hatvalues()``: diagonal of the weighted hat matrix of the last iteration."""
        xk = x[:, self.kept]
        h = self.working_weights * np.einsum("ij,jk,ik->i", xk, self.cov_unscaled, xk)
        h[h > 1.0 - 10.0 * np.finfo(float).eps] = 1.0
        return np.asarray(h, dtype=np.float64)

    def t_test(self, column: int, dispersion: float) -> tuple[float, float]:
        """Estimate and two-sided t-test p-value of one design column (quasi families)."""
        pos = int(np.sum(self.kept[:column]))
        est = float(self.coefficients[pos])
        se = np.sqrt(dispersion * self.cov_unscaled[pos, pos])
        with np.errstate(divide="ignore", invalid="ignore"):
            tval = np.float64(est) / se
        return est, float(2.0 * special.stdtr(self.df_residual, -abs(tval)))

    def predict_link(self, x0: Array, offset: float, dispersion: float) -> tuple[float, float]:
        """Linear predictor and its standard error at one new row (``predict.glm(type="link")``)."""
        xk = x0[self.kept]
        eta = float(xk @ self.coefficients) + offset
        se = float(np.sqrt(xk @ self.cov_unscaled @ xk * dispersion))
        return eta, se


def _wls_qr(xw: Array, zw: Array) -> tuple[Array, NDArray[np.bool_], Array]:
    """Weighted least squares by QR, dropping columns R's limited pivoting would call aliased."""
    kept = np.ones(xw.shape[1], dtype=bool)
    norms = np.linalg.norm(xw, axis=0)
    while True:
        q, r = np.linalg.qr(xw[:, kept])
        diag = np.abs(np.diag(r))
        bad = diag < _QR_TOL * np.where(norms[kept] > 0, norms[kept], 1.0)
        if not bad.any():
            break
        idx = np.flatnonzero(kept)[np.flatnonzero(bad)[0]]
        kept[idx] = False
    coef = np.linalg.solve(r, q.T @ zw)
    return coef, kept, r


_CHOLESKY_MIN_RATIO = 1e-4
"""Smallest ``R_jj / ||x_j||`` for which the normal equations are trusted (see ``_wls``)."""


def _wls(xw: Array, zw: Array) -> tuple[Array, NDArray[np.bool_] | None, Array]:
    """Weighted least squares (``kept`` is ``None`` if nothing was dropped): Cholesky or QR.

    The detectors fit thousands of GLMs with a handful of columns, where ``np.linalg.qr`` costs
    far more in call overhead than in arithmetic. The Cholesky factor of ``X'WX`` is the QR
    factor up to signs, so coefficients and ``(X'WX)^-1`` agree with R's QR to rounding as long
    as no column is close to the span of the others (every ``R_jj`` at least 1e-4 of its column
    norm: the error then stays many orders below the 1e-6 tolerance). Anything nearer to
    aliasing, including the aliased columns R drops, takes the QR path with R's rank rule.
    """
    gram = xw.T @ xw
    r, info = lapack.dpotrf(gram, lower=0)
    if info == 0 and (r.diagonal() > _CHOLESKY_MIN_RATIO * np.sqrt(gram.diagonal())).all():
        coef, _ = lapack.dpotrs(r, xw.T @ zw, lower=0)
        return coef, None, r
    return _wls_qr(xw, zw)


def _valid(dev: float, mu: Array) -> bool:
    """Finite deviance and ``mu`` finite and positive (a sum of positives is finite iff all are)."""
    return math.isfinite(dev) and math.isfinite(float(mu.sum())) and float(mu.min()) > 0


def glm_fit(
    x: Array,
    y: Array,
    family: Family,
    weights: Array | None = None,
    offset: Array | None = None,
    etastart: Array | None = None,
) -> GlmFit | None:
    """Fit a log-link GLM by IRLS exactly as ``stats::glm.fit`` does; ``None`` if no valid start.

    With the log link ``mu.eta`` equals ``linkinv``, so ``mu`` doubles as the derivative, and as
    it is floored at machine epsilon it is never 0: R's ``good`` rows are just the positive
    prior weights, fixed for the whole fit.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return _irls(x, y, family, weights, offset, etastart)


def _irls(
    x: Array, y: Array, family: Family, weights: Array | None, offset: Array | None, etastart: Array | None
) -> GlmFit | None:
    n = y.shape[0]
    w_prior = np.ones(n) if weights is None else weights
    off = np.zeros(n) if offset is None else offset
    eta = np.log(family.mustart(y)) if etastart is None else etastart.copy()
    mu = _exp_floor(eta)
    devold = float(family.dev_resids(y, mu, w_prior).sum())
    good = w_prior > 0
    all_good = bool(good.all())
    xg, yg, offg, wg = (x, y, off, w_prior) if all_good else (x[good], y[good], off[good], w_prior[good])
    coefold: Array | None = None
    coef = np.zeros(x.shape[1])
    all_kept = np.ones(x.shape[1], dtype=bool)
    kept = all_kept
    r_factor = np.eye(x.shape[1])
    w = np.zeros(int(good.sum()))
    converged = False
    for _ in range(MAXIT):
        mug = mu if all_good else mu[good]
        etag = eta if all_good else eta[good]
        z = (etag - offg) + (yg - mug) / mug
        w = np.sqrt(wg * mug**2 / family.variance(mug))
        coef_k, dropped, r_factor = _wls(xg * w[:, None], z * w)
        kept = all_kept if dropped is None else dropped
        if dropped is None:
            coef = coef_k
        else:
            coef = np.zeros(x.shape[1])
            coef[kept] = coef_k
        eta = x @ coef + off
        mu = _exp_floor(eta)
        dev = float(family.dev_resids(y, mu, w_prior).sum())
        if not _valid(dev, mu):
            if coefold is None:
                return None
            for _ in range(MAXIT):
                coef = (coef + coefold) / 2.0
                eta = x @ coef + off
                mu = _exp_floor(eta)
                dev = float(family.dev_resids(y, mu, w_prior).sum())
                if _valid(dev, mu):
                    break
            else:
                return None
        if abs(dev - devold) / (abs(dev) + 0.1) < EPSILON:
            converged = True
            break
        devold = dev
        coefold = coef
    wsq = w**2
    if not all_good:
        wsq = np.zeros(n)
        wsq[good] = w**2
    rinv, _ = lapack.dtrtri(r_factor, lower=0)
    return GlmFit(
        coefficients=coef if kept is all_kept else coef[kept],
        kept=kept,
        fitted=mu,
        working_weights=wsq,
        working_residuals=(y - mu) / _exp_floor(eta),
        cov_unscaled=rinv @ rinv.T,
        df_residual=int(good.sum()) - int(kept.sum()),
        converged=converged,
        y=y,
        prior_weights=w_prior,
    )


def _trigamma(x: Array | float) -> Array:
    """``trigamma`` as the Hurwitz zeta ``ζ(2, x)``: what ``special.polygamma(1, x)`` computes,
    without its generic wrapper (this runs in every Newton step of ``theta_ml``)."""
    return np.asarray(special.zeta(2.0, x), dtype=np.float64)


def theta_ml(
    y: Array,
    mu: Array,
    weights: Array | None = None,
    limit: int = MAXIT,
    distinct: tuple[Array, NDArray[np.intp]] | None = None,
) -> float:
    """``MASS::theta.ml``: Newton iterations for the negative binomial size, to ``eps^(1/4)``.

    The polygamma functions dominate the cost and counts repeat a lot, so they are evaluated
    once per distinct count (elementwise, hence the very same values); ``distinct`` is
    ``np.unique(y, return_inverse=True)`` when the caller has it already. ``weights=None`` means
    unit weights, which multiply nothing away (``x * 1.0 == x``), so they are left out.
    """
    counts, where = np.unique(y, return_inverse=True) if distinct is None else distinct

    def total(values: Array) -> float:
        return float(np.sum(values if weights is None else weights * values))

    n = float(y.shape[0]) if weights is None else float(np.sum(weights))
    eps = _DBL_EPS**0.25
    it = 0
    delta = 1.0
    # IEEE arithmetic throughout, as in R: a perfect fit gives t0 = inf and then NaN, which ends
    # the loop (R stops with an error there; glm_nb then finds no valid fit) instead of raising.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t0 = float(np.divide(n, total((y / mu - 1.0) ** 2)))
        while True:
            it += 1
            if not (it < limit and abs(delta) > eps):
                break
            t0 = abs(t0)
            mu_t0 = mu + t0
            ratio = (y + t0) / mu_t0
            score = total(
                special.digamma(t0 + counts)[where] - special.digamma(t0) + np.log(t0) + 1 - np.log(mu_t0) - ratio
            )
            info = total(-_trigamma(t0 + counts)[where] + _trigamma(t0) - 1 / t0 + 2 / mu_t0 - (y + t0) / mu_t0**2)
            delta = float(np.divide(score, info))
            t0 = t0 + delta
    return max(t0, 0.0)


def _nb_loglik(th: float, mu: Array, y: Array, w: Array) -> float:
    terms = (
        special.gammaln(th + y)
        - special.gammaln(th)
        - special.gammaln(y + 1)
        + th * np.log(th)
        + y * np.log(mu + (y == 0))
        - (th + y) * np.log(th + mu)
    )
    return float(np.sum(w * terms))


def glm_nb(x: Array, y: Array) -> tuple[GlmFit, float] | None:
    """``MASS::glm.nb``: alternate a negative binomial GLM fit and ``theta.ml`` until stable.

    Compiled (``_glm_nb_compiled``) on the common path; a fit that leaves it (near-aliased
    design, step halving, degenerate θ) is redone by ``glm_nb_numpy``, which handles those as R."""
    from . import _glm_nb_compiled as _nb  # numba loads only when glm.nb runs

    distinct = np.unique(y, return_inverse=True)
    xc = np.ascontiguousarray(x, dtype=np.float64)
    yc = np.ascontiguousarray(y, dtype=np.float64)
    counts = np.ascontiguousarray(distinct[0], dtype=np.float64)
    status, coef, eta, w, r, converged, theta = _nb.glm_nb(xc, yc, counts, distinct[1].astype(np.intp))
    if status != _nb.OK:
        return glm_nb_numpy(x, y, distinct)
    mu = _exp_floor(eta)
    rinv, _ = lapack.dtrtri(r, lower=0)
    fit = GlmFit(
        coefficients=coef,
        kept=np.ones(x.shape[1], dtype=bool),
        fitted=mu,
        working_weights=w**2,
        working_residuals=(y - mu) / mu,
        cov_unscaled=rinv @ rinv.T,
        df_residual=y.shape[0] - x.shape[1],
        converged=bool(converged),
        y=y,
        prior_weights=np.ones(y.shape[0]),
    )
    return fit, float(theta)


def glm_nb_numpy(
    x: Array, y: Array, distinct: tuple[Array, NDArray[np.intp]] | None = None
) -> tuple[GlmFit, float] | None:
    """``glm_nb`` in NumPy, with R's QR rank rule and step halving: the reference path."""
    w = np.ones(y.shape[0])
    fit = glm_fit(x, y, poisson_family("poisson"))
    if fit is None:
        return None
    mu = fit.fitted
    if distinct is None:
        distinct = np.unique(y, return_inverse=True)
    th = theta_ml(y, mu, distinct=distinct)
    d1 = np.sqrt(2.0 * max(1, fit.df_residual))
    d2 = delta = 1.0
    lm = _nb_loglik(th, mu, y, w)
    lm0 = lm + 2 * d1
    it = 0
    while True:
        it += 1
        if not (it <= MAXIT and (abs(lm0 - lm) / d1 + abs(delta) / d2) > EPSILON):
            break
        refit = glm_fit(x, y, negbin_family(th), etastart=np.log(mu))
        if refit is None:
            return None
        fit = refit
        t0 = th
        th = theta_ml(y, mu, distinct=distinct)
        mu = fit.fitted
        delta = t0 - th
        lm0 = lm
        lm = _nb_loglik(th, mu, y, w)
    return fit, th


def glm_fit_batch(x: Array, y: Array, family: Family, weights: Array | None = None) -> list[GlmFit | None]:
    """``glm_fit`` for a stack of same-shaped problems (``x``: B×n×p, ``y``: B×n), side by side.

    Classic Farrington refits a tiny GLM for every monitored week; stepping all weeks' IRLS
    together turns hundreds of small numpy calls per week into a few per iteration. Each problem
    still follows its own R path: it stops at its own convergence test and keeps the working
    weights and ``(X'WX)^-1`` of its own last iteration. A problem that leaves the common path
    (a zero prior weight, a near-aliased design, a step that needs halving) is refitted alone by
    ``glm_fit``, which gives exactly what it would have given in the first place.
    """
    b, n, p = x.shape
    w_prior = np.ones((b, n)) if weights is None else weights
    alone: NDArray[np.bool_] = ~np.all(w_prior > 0, axis=1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        eta = np.log(family.mustart(y))
        mu = _exp_floor(eta)
        devold = family.dev_resids(y, mu, w_prior).sum(axis=1)
        active = ~alone
        converged = np.zeros(b, dtype=bool)
        coef = np.zeros((b, p))
        gram = np.zeros((b, p, p))
        w = np.zeros((b, n))
        for _ in range(MAXIT):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            mu_a = mu[idx]
            z = eta[idx] + (y[idx] - mu_a) / mu_a
            w_a = np.sqrt(w_prior[idx] * mu_a**2 / family.variance(mu_a))
            xw = x[idx] * w_a[:, :, None]
            xwt = xw.transpose(0, 2, 1)
            g = xwt @ xw
            well = _well_conditioned(g)
            step = np.linalg.solve(np.where(well[:, None, None], g, np.eye(p)), xwt @ (z * w_a)[:, :, None])[:, :, 0]
            eta_a = (x[idx] @ step[:, :, None])[:, :, 0]
            mu_new = _exp_floor(eta_a)
            dev = family.dev_resids(y[idx], mu_new, w_prior[idx]).sum(axis=1)
            valid = np.isfinite(dev) & np.isfinite(mu_new.sum(axis=1)) & (mu_new.min(axis=1) > 0)
            stray = ~(well & valid)
            alone[idx[stray]] = True
            done = np.abs(dev - devold[idx]) / (np.abs(dev) + 0.1) < EPSILON
            eta[idx], mu[idx], coef[idx], gram[idx], w[idx], devold[idx] = eta_a, mu_new, step, g, w_a, dev
            converged[idx[done & ~stray]] = True
            active[idx[done | stray]] = False
        fitted = ~alone
        cov = np.zeros((b, p, p))
        if fitted.any():
            cov[fitted] = np.linalg.inv(gram[fitted])
    fits: list[GlmFit | None] = []
    kept = np.ones(p, dtype=bool)
    for i in range(b):
        if alone[i]:
            fits.append(glm_fit(x[i], y[i], family, weights=None if weights is None else weights[i]))
            continue
        fits.append(
            GlmFit(
                coefficients=coef[i],
                kept=kept,
                fitted=mu[i],
                working_weights=w[i] ** 2,
                working_residuals=(y[i] - mu[i]) / mu[i],
                cov_unscaled=cov[i],
                df_residual=n - p,
                converged=bool(converged[i]),
                y=y[i],
                prior_weights=w_prior[i],
            )
        )
    return fits


def _well_conditioned(gram: Array) -> NDArray[np.bool_]:
    """Per problem: positive definite with every Cholesky ``R_jj`` at least ``_CHOLESKY_MIN_RATIO``
    of its column norm (the rule of ``_wls``); the others go the QR way, alone."""
    norms = np.sqrt(np.diagonal(gram, axis1=1, axis2=2))
    finite: NDArray[np.bool_] = np.all(np.isfinite(gram), axis=(1, 2))
    try:
        chol = np.linalg.cholesky(np.where(finite[:, None, None], gram, np.eye(gram.shape[1])))
    except np.linalg.LinAlgError:
        return np.array([bool(finite[i]) and _wls_cholesky_ok(gram[i]) for i in range(gram.shape[0])])
    return np.asarray(finite & (np.diagonal(chol, axis1=1, axis2=2) > _CHOLESKY_MIN_RATIO * norms).all(axis=1))


def _wls_cholesky_ok(gram: Array) -> bool:
    r, info = lapack.dpotrf(gram, lower=0)
    return info == 0 and bool((r.diagonal() > _CHOLESKY_MIN_RATIO * np.sqrt(gram.diagonal())).all())
