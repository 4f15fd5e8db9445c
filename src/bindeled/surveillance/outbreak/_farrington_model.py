"""The quasi-Poisson model behind both Farrington detectors: fit, reweight, and predict.

Farrington et al. (1996): fit ``log mu = a + b*t (+ season factor)`` to the reference weeks, compute
the dispersion ``phi = max(Pearson, 1)``, down-weight weeks whose Anscombe residual exceeds a
threshold (weights ``gamma * s^-2``, scaled to sum to n), refit, and recompute ``phi``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._glm import GlmFit, glm_fit, glm_fit_batch, poisson_family
from ._quantiles import rmax

Array = NDArray[np.float64]

_QUASI = poisson_family("quasipoisson")


@dataclass(frozen=True, slots=True)
class Design:
    """Columns: intercept, optional time, one indicator per seasonal level but the lowest."""

    trend: bool
    levels: tuple[float, ...]

    def matrix(self, wtime: Array, season: Array | None) -> Array:
        cols = [np.ones_like(wtime)]
        if self.trend:
            cols.append(wtime)
        if season is not None:
            cols.extend((season == lev).astype(float) for lev in self.levels[1:])
        return np.asarray(np.column_stack(cols), dtype=np.float64)

    def row(self, wtime: float, level: float | None) -> Array:
        """One row of ``matrix`` (built directly: it is asked for several times per week)."""
        values = [1.0] + ([wtime] if self.trend else [])
        if level is not None:
            values.extend(float(level == lev) for lev in self.levels[1:])
        return np.array(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FarringtonModel:
    """A final fit with its design, floored dispersion and the reweighting weights (if any)."""

    fit: GlmFit
    design: Design
    phi: float
    omega: Array | None

    def summary_dispersion(self) -> float:
        """What ``summary.glm`` reports: weighted Pearson over the working weights, not floored."""
        return self.fit.pearson_dispersion()

    def quirk_dispersion(self) -> float:
        """What R 1.20.3's farringtonFlexible reads after overwriting ``model$weights`` by omega."""
        if self.omega is None:
            return self.fit.pearson_dispersion()
        return self.fit.pearson_dispersion(self.omega)


def anscombe_residuals(fit: GlmFit, x: Array, phi: float) -> Array:
    """Standardised Anscombe residuals ``1.5 (y^(2/3) mu^(-1/6) - mu^(1/2)) / sqrt(phi (1 - h))``."""
    return _anscombe(fit.y, fit.fitted, fit.hat_values(x), phi)


def _anscombe(y: Array, mu: Array, hat: Array, phi: Array | float) -> Array:
    """The residual formula on arrays of any shape (one fit per row when stacked)."""
    a = 1.5 * (y ** (2.0 / 3.0) * mu ** (-1.0 / 6.0) - np.sqrt(mu))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(a / np.sqrt(phi * (1.0 - hat)), dtype=np.float64)


def reweighting(s: Array, threshold: float) -> Array:
    """Weights ``gamma * s^-2`` above the threshold and ``gamma`` below, summing to n (per row)."""
    high = s > threshold
    with np.errstate(divide="ignore"):
        inv = np.where(high, s**-2.0, 1.0)
    gamma = s.shape[-1] / inv.sum(axis=-1, keepdims=True)
    return np.asarray(gamma * inv, dtype=np.float64)


def _stacked_omegas(fits: list[GlmFit], x: Array, threshold: float) -> Array:
    """``reweighting(anscombe_residuals(...))`` for same-shaped converged fits, one row each.

    Their working weights are all positive (``mu`` is), so the Pearson dispersion is a plain
    row sum; the hat values are ``w x' (X'WX)^-1 x`` as in ``GlmFit.hat_values``.
    """
    mu = np.array([f.fitted for f in fits])
    y = np.array([f.y for f in fits])
    w = np.array([f.working_weights for f in fits])
    cov = np.array([f.cov_unscaled for f in fits])
    df = np.array([f.df_residual for f in fits], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(df > 0, (w * ((y - mu) / mu) ** 2).sum(axis=1) / df, np.nan)
    phi = np.maximum(pearson, 1.0)  # R's max: NaN stays NaN
    hat = w * np.einsum("bij,bjk,bik->bi", x, cov, x)
    hat[hat > 1.0 - 10.0 * np.finfo(float).eps] = 1.0
    return reweighting(_anscombe(y, mu, hat, phi[:, None]), threshold)


def _fit(x: Array, y: Array, offset: Array | None, weights: Array | None = None) -> GlmFit | None:
    return glm_fit(x, y, _QUASI, weights=weights, offset=offset)


def fit_model(
    y: Array,
    wtime: Array,
    season: Array | None,
    offset: Array | None,
    *,
    trend: bool,
    reweight: bool,
    threshold: float,
    strict: bool,
) -> FarringtonModel | None:
    """Fit, fall back to no trend if the trend fit does not converge, reweight and refit.

    ``strict`` (farringtonFlexible) gives up (``None``) when even the model without trend does not
    converge; the classic detector goes on with the unconverged fit, as R does.
    """
    levels = tuple(sorted(set(season.tolist()))) if season is not None else ()
    design = Design(trend, levels)
    x = design.matrix(wtime, season)
    fit = _fit(x, y, offset)
    if fit is None or not fit.converged:
        if trend:
            design = Design(False, levels)
            x = design.matrix(wtime, season)
            fit = _fit(x, y, offset)
        if fit is None or (strict and not fit.converged):
            return None
    phi = rmax(fit.pearson_dispersion(), 1.0)
    omega = None
    if reweight:
        omega = reweighting(anscombe_residuals(fit, x, phi), threshold)
        refit = _fit(x, y, offset, omega)
        if refit is None:
            return None
        fit = refit
        phi = rmax(fit.pearson_dispersion(), 1.0)
    return FarringtonModel(fit, design, phi, omega)


def fit_models_unseasoned(
    ys: Array, wtimes: Array, *, trend: bool, reweight: bool, threshold: float
) -> list[FarringtonModel | None]:
    """``fit_model`` (no season, no offset, not strict) for many weeks at once, one row each.

    The fits of all rows run side by side (``glm_fit_batch``); a row whose first fit fails or
    does not converge takes ``fit_model`` alone, which repeats that fit and its fallback.
    """
    design = Design(trend, ())
    cols = [np.ones_like(wtimes)] + ([wtimes] if trend else [])
    x = np.stack(cols, axis=2)
    models: list[FarringtonModel | None] = [None] * ys.shape[0]
    firsts = glm_fit_batch(x, ys, _QUASI)
    todo: list[int] = []
    for i, fit in enumerate(firsts):
        if fit is None or not fit.converged:
            models[i] = fit_model(
                ys[i], wtimes[i], None, None, trend=trend, reweight=reweight, threshold=threshold, strict=False
            )
            continue
        if reweight:
            todo.append(i)
        else:
            models[i] = FarringtonModel(fit, design, rmax(fit.pearson_dispersion(), 1.0), None)
    if todo:
        rows = np.array(todo)
        omegas = _stacked_omegas([f for f in firsts if f is not None and f.converged], x[rows], threshold)
        refits = glm_fit_batch(x[rows], ys[rows], _QUASI, omegas)
        for i, omega, refit in zip(todo, omegas, refits, strict=True):
            if refit is not None:
                models[i] = FarringtonModel(refit, design, rmax(refit.pearson_dispersion(), 1.0), omega)
    return models


def delta_threshold(mu0: float, se: float, phi: float, z: float, powertrans: str) -> tuple[float, float]:
    """Upper bound by the delta method on the power-transformed scale, and its scale ``sd``.

    Returns R's ``lu[2]``: the larger of the two ends that is not NaN (NaN only if both are).
    """
    tau = phi + se * se / mu0 if mu0 != 0 else (math.inf if se != 0 else math.nan)
    if powertrans == "none":
        sd, exponent = math.sqrt(mu0 * tau) if mu0 * tau >= 0 else math.nan, 1.0
    elif powertrans == "1/2":
        sd, exponent = math.sqrt(tau / 4.0) if tau >= 0 else math.nan, 0.5
    elif powertrans == "2/3":
        base = 4.0 / 9.0 * mu0 ** (1.0 / 3.0) * tau
        sd, exponent = math.sqrt(base) if base >= 0 else math.nan, 2.0 / 3.0
    else:
        raise ValueError(f"powertrans must be '2/3', '1/2' or 'none', not {powertrans!r}")
    centre = mu0**exponent
    ends = [_rpow(centre - z * sd, 1.0 / exponent), _rpow(centre + z * sd, 1.0 / exponent)]
    finite = [e for e in ends if not math.isnan(e)]
    return (max(finite) if finite else math.nan), sd


def _rpow(base: float, power: float) -> float:
    """R's ``^``: a negative base to a fractional power is NaN."""
    if math.isnan(base):
        return math.nan
    if base < 0 and power != int(power):
        return math.nan
    return float(base**power)
