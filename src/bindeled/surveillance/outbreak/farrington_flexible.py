"""``farringtonFlexible``: Farrington's method with Noufaily's improvements, as R ``surveillance`` 1.20.3.

For each monitored week t the reference data are the windows of 2w+1 weeks around t - freq*i
(i = 1..b) plus t-w..t; with ``noPeriods > 1`` the gaps between windows become seasonal factor
levels. The most recent ``pastWeeksNotIncluded`` weeks are left out. A quasi-Poisson GLM is fitted
(with reweighting), the trend is kept only if b >= 3, significant and not extrapolating, and the
upper bound is the delta-method (``delta``) or negative binomial (``nbPlugin``/``muan``) quantile.

**R's dispersion quirk.** After the reweighted refit, R overwrites the model's working weights with
the reweighting weights, so the trend test and the prediction's standard error use
``Σ ω (y-μ)²/μ² / (n-p)`` instead of the weighted Pearson dispersion, and the floored ``phi`` never
reaches ``predict`` (without reweighting the unfloored Pearson dispersion is used). ``r_compat=True``
reproduces this; ``False`` uses the weighted Pearson dispersion for the trend test and ``phi`` for
the standard error, like classic ``farrington``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import special

from ._farrington_model import FarringtonModel, delta_threshold, fit_model
from ._quantiles import qnbinom, qpois
from ._reference import block_levels, flexible_reference_points
from .controls import FarringtonFlexibleControl
from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["farrington_flexible"]

_NAN = math.nan
_EPS = float(np.finfo(float).eps)


@dataclasses.dataclass(frozen=True, slots=True)
class _Data:
    y: np.ndarray
    wtime: np.ndarray
    season: np.ndarray | None
    offset: np.ndarray | None
    wtime_now: float


def _data(series: WeeklySeries, t: int, c: FarringtonFlexibleControl, past: int) -> _Data:
    points = flexible_reference_points(series, t, c.b)
    levels = block_levels(len(series), points, c.w, c.noPeriods)
    levels[max(t - past, 1) - 1 : t] = np.nan
    idx = np.flatnonzero(~np.isnan(levels))
    idx = idx[~np.isnan(series.observed[idx])]
    if series.dates is None:
        wtime = (idx + 1).astype(float)
        now = float(t)
    else:
        step = float((series.dates[1] - series.dates[0]).days)
        first = series.dates[idx[0]]
        wtime = np.array([(series.dates[i] - first).days / step for i in idx])
        now = (series.dates[t - 1] - first).days / step
    season = levels[idx] if c.noPeriods != 1 else None
    offset = np.log(series.population[idx]) if c.populationOffset else None
    return _Data(series.observed[idx], wtime, season, offset, now)


def _fit(d: _Data, c: FarringtonFlexibleControl, trend: bool) -> FarringtonModel | None:
    return fit_model(
        d.y, d.wtime, d.season, d.offset, trend=trend, reweight=c.reweight, threshold=c.weightsThreshold, strict=True
    )


def _inference_dispersion(model: FarringtonModel, c: FarringtonFlexibleControl) -> tuple[float, float]:
    """(dispersion for the trend test, dispersion for the prediction's standard error)."""
    if c.r_compat:
        quirk = model.quirk_dispersion()
        return quirk, quirk
    return model.summary_dispersion(), model.phi


def _predict(
    model: FarringtonModel, d: _Data, c: FarringtonFlexibleControl, se_disp: float, pop: float
) -> tuple[float, float]:
    level = float(c.noPeriods) if c.noPeriods != 1 else None
    offset = math.log(pop) if c.populationOffset else 0.0
    return model.fit.predict_link(model.design.row(d.wtime_now, level), offset, se_disp)


def _final_model(d: _Data, c: FarringtonFlexibleControl, pop: float) -> tuple[FarringtonModel, bool] | None:
    model = _fit(d, c, c.trend)
    if model is None or not model.design.trend:
        return None if model is None else (model, False)
    test_disp, se_disp = _inference_dispersion(model, c)
    eta, _ = _predict(model, d, c, se_disp, pop)
    _, p = model.fit.t_test(1, test_disp)
    keep = c.b >= 3 and p < c.pThresholdTrend and _response(eta) <= float(np.max(d.y))
    if keep:
        return model, True
    refit = _fit(d, c, False)
    return None if refit is None else (refit, False)


def _noufaily(eta: float, se: float, phi: float, alpha: float, y: float, method: str) -> tuple[float, float, float]:
    """(upper, pvalue, score) for nbPlugin / muan; the score uses the log-scale ``eta`` as R does."""
    mu = _exp(eta) if method == "nbPlugin" else _exp(eta + se * float(special.ndtri(1 - alpha)))
    if math.isinf(mu):
        return _NAN, _NAN, _NAN
    upper = qnbinom(1 - alpha, mu / (phi - 1), 1 / phi) if phi > 1 else qpois(1 - alpha, mu)
    if y <= 0:
        prob = 1.0
    elif phi != 1:
        prob = float(special.betainc(y, mu / (phi - 1), 1 - 1 / phi))
    else:
        prob = float(special.gammainc(y, mu))
    score = (y - eta) / (upper - eta) if not math.isnan(upper) else _NAN
    return upper, prob, score


def _exp(x: float) -> float:
    """``exp`` that overflows to ``inf`` as R's does, instead of raising."""
    return math.exp(x) if x < 709.0 else math.inf


def _response(eta: float) -> float:
    """``predict(type = "response")``: R's log-link inverse, floored at machine epsilon."""
    return max(_exp(eta), _EPS)


def _upper_tail(x: float, mean: float, sd: float) -> float:
    """``pnorm(x, mean, sd, lower.tail = FALSE)``, including R's point mass at ``sd == 0``."""
    if math.isnan(sd) or math.isnan(x) or math.isnan(mean):
        return _NAN
    if sd == 0:
        return 0.0 if x >= mean else 1.0
    return float(special.ndtr((mean - x) / sd))


def _mu0_vector(eta: float, se: float, c: FarringtonFlexibleControl) -> float:
    """R's ``mu0Vector``; for ``delta`` R feeds the response-scale fit into ``exp(qnorm(...))``."""
    if c.thresholdMethod == "nbPlugin":
        return _exp(eta)
    z = float(special.ndtri(1 - c.alpha))
    if c.thresholdMethod == "muan":
        return _exp(eta + z * se)
    mu0 = _response(eta)
    return _exp(mu0 + z * se * mu0)


def _week(series: WeeklySeries, t: int, c: FarringtonFlexibleControl, past: int) -> WeekResult:
    y = float(series.observed[t - 1])
    d = _data(series, t, c, past)
    pop = float(series.population[t - 1])
    final = _final_model(d, c, pop)
    if final is None:
        return WeekResult(t, y, _NAN, None, expected=_NAN, score=_NAN, pvalue=_NAN, phi=_NAN, mu0=_NAN)
    model, do_trend = final
    _, se_disp = _inference_dispersion(model, c)
    eta, se = _predict(model, d, c, se_disp, pop)
    if c.thresholdMethod == "delta":
        mu0 = _response(eta)
        upper, sd = delta_threshold(mu0, se * mu0, model.phi, float(special.ndtri(1 - c.alpha)), c.powertrans)
        expo = {"none": 1.0, "1/2": 0.5}.get(c.powertrans, 2.0 / 3.0)
        prob = _upper_tail(y**expo, mu0**expo, sd)
        score = (y - mu0) / (upper - mu0) if not math.isnan(upper) else _NAN
        expected = mu0
    else:
        upper, prob, score = _noufaily(eta, se, model.phi, c.alpha, y, c.thresholdMethod)
        expected = _exp(eta)
    recent = series.observed[max(t - c.limit54[1], 0) : t]
    enough = bool(np.sum(recent) >= c.limit54[0])
    alarm = enough and not math.isnan(score) and score > 1 and y != 0
    quantile_mu = _mu0_vector(eta, se, c)
    trend_coef = float(model.fit.coefficients[1]) if do_trend else None
    return WeekResult(
        t,
        y,
        upper if enough else _NAN,
        alarm,
        expected=expected if enough and not math.isnan(upper) else _NAN,
        score=score,
        pvalue=prob,
        phi=model.phi,
        trend=do_trend,
        trend_coefficient=trend_coef,
        mu0=quantile_mu,
    )


def _check(c: FarringtonFlexibleControl) -> None:
    if not (c.limit54[0] >= 0 and c.limit54[1] > 0):
        raise ValueError("limit54 out of bounds: cases >= 0 and period > 0")
    if c.thresholdMethod not in ("delta", "nbPlugin", "muan"):
        raise ValueError("thresholdMethod must be 'delta', 'nbPlugin' or 'muan'")
    if c.powertrans not in ("2/3", "1/2", "none"):
        raise ValueError("powertrans must be '2/3', '1/2' or 'none'")
    if c.noPeriods < 1 or c.b < 1 or c.w < 0:
        raise ValueError("b and noPeriods must be at least 1 and w at least 0")


def farrington_flexible(series: WeeklySeries, control: FarringtonFlexibleControl | None = None) -> DetectionResult:
    """Run ``farringtonFlexible`` over the monitored weeks; see the module docstring for the method.

    Raises ``ValueError`` for controls R rejects and when a week lacks its yearly reference weeks.
    """
    c = control or FarringtonFlexibleControl()
    _check(c)
    n = len(series)
    first, last = c.range or (series.freq * c.b + c.w + 1, n)
    if not 1 <= first <= last <= n:
        raise ValueError(f"range must lie within 1..{n}")
    past = c.w if c.pastWeeksNotIncluded is None else c.pastWeeksNotIncluded
    c = dataclasses.replace(c, range=(first, last), pastWeeksNotIncluded=past)
    weeks = tuple(_week(series, t, c, past) for t in range(first, last + 1))
    return DetectionResult("farringtonFlexible", dataclasses.asdict(c), weeks)
