"""Classic ``farrington`` (``algo.farrington``), Farrington et al. (1996), as R ``surveillance`` 1.20.3.

Reference values are the windows ``t - freq*i ± w`` (i = 1..b); early weeks of the default range
use the ones that exist. The threshold is two-sided (``qnorm(1 - alpha/2)``) on the 2/3-power scale
with the floored dispersion ``phi``; the trend test uses the weighted Pearson dispersion at a fixed
5 % level. Where fewer than ``limit54[0]`` cases fell in the last ``limit54[1]`` weeks the upper
bound is 0 and there is no alarm; otherwise alarm means score ``(y - mu)/(U - mu) > 1``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import special

from ._farrington_model import FarringtonModel, delta_threshold, fit_model, fit_models_unseasoned
from ._reference import classic_reference_weeks
from .controls import FarringtonControl
from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["farrington"]


_Final = tuple[FarringtonModel, bool] | None
"""The model a week's threshold comes from and whether it kept the trend (``None``: no fit)."""


def _fit(y: np.ndarray, wtime: np.ndarray, c: FarringtonControl, trend: bool) -> FarringtonModel | None:
    return fit_model(y, wtime, None, None, trend=trend, reweight=c.reweight, threshold=1.0, strict=False)


def _keeps_trend(model: FarringtonModel, y: np.ndarray, t: int, c: FarringtonControl) -> bool:
    """R keeps the trend if significant at 5 %, b >= 3 and the prediction does not exceed max(y)."""
    _, p = model.fit.t_test(1, model.summary_dispersion())
    eta, _ = model.fit.predict_link(model.design.row(float(t), None), 0.0, model.phi)
    return c.b >= 3 and p < 0.05 and _response(eta) <= float(np.max(y))


def _final_model(y: np.ndarray, wtime: np.ndarray, t: int, c: FarringtonControl) -> _Final:
    model = _fit(y, wtime, c, c.trend)
    if model is None or not model.design.trend:
        return None if model is None else (model, False)
    if _keeps_trend(model, y, t, c):
        return model, True
    refit = _fit(y, wtime, c, False)
    return None if refit is None else (refit, False)


def _final_models(series: WeeklySeries, refs: dict[int, np.ndarray], c: FarringtonControl) -> dict[int, _Final]:
    """``_final_model`` for every week, the weeks with equally many reference values fitted together.

    Same decisions in the same order, only each stage (trend fit, refit without trend) runs for
    all weeks of a group at once.
    """
    finals: dict[int, _Final] = {}
    groups: dict[int, list[int]] = {}
    for t, weeks in refs.items():
        groups.setdefault(weeks.shape[0], []).append(t)
    for size, ts in groups.items():
        if size == 0:
            finals.update({t: _final_model(np.zeros(0), np.zeros(0), t, c) for t in ts})
            continue
        wtimes = np.array([refs[t] for t in ts], dtype=float)
        ys = series.observed[wtimes.astype(int) - 1]
        models = fit_models_unseasoned(ys, wtimes, trend=c.trend, reweight=c.reweight, threshold=1.0)
        retry: list[int] = []
        for i, (t, model) in enumerate(zip(ts, models, strict=True)):
            if model is None or not model.design.trend:
                finals[t] = None if model is None else (model, False)
            elif _keeps_trend(model, ys[i], t, c):
                finals[t] = (model, True)
            else:
                retry.append(i)
        if retry:
            rows = np.array(retry)
            refits = fit_models_unseasoned(ys[rows], wtimes[rows], trend=False, reweight=c.reweight, threshold=1.0)
            for i, refit in zip(retry, refits, strict=True):
                finals[ts[i]] = None if refit is None else (refit, False)
    return finals


def _response(eta: float) -> float:
    """``predict(type = "response")``: R's log-link inverse, floored at machine epsilon."""
    return max(math.exp(eta) if eta < 709.0 else math.inf, float(np.finfo(float).eps))


def _week(series: WeeklySeries, t: int, c: FarringtonControl, final: _Final) -> WeekResult:
    y_now = float(series.observed[t - 1])
    if final is None:
        return WeekResult(t, y_now, math.nan, None, expected=math.nan, score=math.nan, phi=math.nan)
    model, do_trend = final
    eta, se = model.fit.predict_link(model.design.row(float(t), None), 0.0, model.phi)
    mu0 = _response(eta)
    z = float(special.ndtri(1 - c.alpha / 2))
    upper, _ = delta_threshold(mu0, se * mu0, model.phi, z, c.powertrans)
    recent = series.observed[max(t - c.limit54[1], 0) : t]
    enough = bool(np.sum(recent) >= c.limit54[0])
    score = (y_now - mu0) / (upper - mu0) if enough else 0.0
    alarm = None if math.isnan(score) else score > 1
    return WeekResult(
        t, y_now, upper if enough else 0.0, alarm, expected=mu0, score=score, phi=model.phi, trend=do_trend
    )


def farrington(series: WeeklySeries, control: FarringtonControl | None = None) -> DetectionResult:
    """Run classic Farrington over the monitored weeks (see the module docstring)."""
    c = control or FarringtonControl()
    if not (c.limit54[0] >= 0 and c.limit54[1] > 0):
        raise ValueError("limit54 out of bounds: cases >= 0 and period > 0")
    if c.powertrans not in ("2/3", "1/2", "none"):
        raise ValueError("powertrans must be '2/3', '1/2' or 'none'")
    n = len(series)
    first, last = c.range or (series.freq * c.b - c.w, n)
    if not 1 <= first <= last <= n:
        raise ValueError(f"range must lie within 1..{n}")
    c = dataclasses.replace(c, range=(first, last))
    refs = {t: np.array(classic_reference_weeks(series, t, c.b, c.w), dtype=int) for t in range(first, last + 1)}
    finals = _final_models(series, refs, c)
    weeks = tuple(_week(series, t, c, finals[t]) for t in range(first, last + 1))
    return DetectionResult("farrington", dataclasses.asdict(c), weeks)
