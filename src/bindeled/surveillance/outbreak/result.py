"""What every detector returns: one record per monitored week plus the controls that produced it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DetectionResult", "WeekResult"]


@dataclass(frozen=True, slots=True)
class WeekResult:
    """One monitored week. ``NaN`` stands for R's ``NA``/``NaN`` bound, ``None`` for an ``NA`` alarm.

    The optional fields are the method's internals, present where R computes them.
    """

    t: int
    """1-based week index in the input series."""
    observed: float
    upperbound: float
    alarm: bool | None
    expected: float | None = None
    """farrington*: the predicted count (``NaN`` where R gives ``NA``)."""
    score: float | None = None
    """farrington*: ``(y - fit) / (U - fit)``; an alarm needs a score above 1."""
    pvalue: float | None = None
    """farringtonFlexible: upper-tail probability of the observation under the fitted model."""
    phi: float | None = None
    """farrington*: the (floored) quasi-Poisson dispersion."""
    trend: bool | None = None
    """farrington*: whether the time trend was kept."""
    trend_coefficient: float | None = None
    """farringtonFlexible: the kept trend's slope."""
    mu0: float | None = None
    """farringtonFlexible: R's ``mu0Vector``; CUSUM: reference mean ``m``; GLR: in-control mean."""
    statistic: float | None = None
    """CUSUM: the cumulative sum ``S_t``; GLR: the GLR statistic; EARS: the C statistic."""


@dataclass(frozen=True, slots=True)
class DetectionResult:
    """A detector run: the method, the exact controls used (R names) and the monitored weeks."""

    method: str
    control: Mapping[str, object]
    weeks: tuple[WeekResult, ...]
