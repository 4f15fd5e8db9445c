"""Typed control records, one per detector, with R's control names and R's defaults.

Field names are R's own (``weightsThreshold``, ``pThresholdTrend``…) so that people who know the R
package read them unchanged; only R's dotted ``c.ARL`` becomes ``c_ARL``. ``range`` is
``(first, last)``: inclusive, 1-based week indices as in R; ``None`` means R's default range where
R has one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BayesControl",
    "Control",
    "CusumControl",
    "EarsControl",
    "FarringtonControl",
    "FarringtonFlexibleControl",
    "GlrControl",
    "Mu0Model",
]

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class FarringtonFlexibleControl:
    """``farringtonFlexible`` (Noufaily et al. 2013 generalisation of Farrington 1996)."""

    range: Range | None = None
    """Monitored weeks; default ``(freq*b + w + 1, n)``."""
    b: int = 5
    """Years back for reference weeks."""
    w: int = 3
    """Half-width of the reference window around each past week."""
    reweight: bool = True
    """Down-weight past outbreaks by Anscombe residuals before the final fit."""
    weightsThreshold: float = 2.58
    """Residual above which a reference week is down-weighted."""
    alpha: float = 0.05
    """One-sided level of the threshold."""
    trend: bool = True
    """Try a linear time trend (kept only when significant and not extrapolating)."""
    pThresholdTrend: float = 0.05
    """p-value below which the trend is kept (1 keeps every non-extrapolating trend)."""
    limit54: tuple[int, int] = (5, 4)
    """(cases, weeks): no alarm unless the last ``weeks`` weeks sum to at least ``cases``."""
    powertrans: str = "2/3"
    """Power transformation for the delta threshold: ``"2/3"``, ``"1/2"`` or ``"none"``."""
    populationOffset: bool = False
    """Use ``log(population)`` as an offset."""
    noPeriods: int = 1
    """Number of seasonal factor levels (1 = none; Noufaily uses 10)."""
    pastWeeksNotIncluded: int | None = None
    """Most recent weeks left out of the fit; default ``w``."""
    thresholdMethod: str = "delta"
    """``"delta"`` (Farrington), ``"nbPlugin"`` or ``"muan"`` (Noufaily)."""
    r_compat: bool = True
    """Reproduce R 1.20.3's dispersion quirk (see ``farrington_flexible``); ``False`` corrects it."""

    @classmethod
    def original_1996(cls, **changes: object) -> FarringtonFlexibleControl:
        """The choices of Farrington et al. (1996): weightsThreshold 1, past 3 weeks left out."""
        base = cls(weightsThreshold=1.0, pThresholdTrend=0.05, pastWeeksNotIncluded=3, alpha=0.025)
        return _replace(base, changes)

    @classmethod
    def noufaily(cls, threshold_method: str = "nbPlugin", **changes: object) -> FarringtonFlexibleControl:
        """The improved method of Noufaily et al. (2013): 10 periods, 26 weeks left out, trend test off."""
        base = cls(
            weightsThreshold=2.58,
            pThresholdTrend=1.0,
            noPeriods=10,
            pastWeeksNotIncluded=26,
            thresholdMethod=threshold_method,
        )
        return _replace(base, changes)


@dataclass(frozen=True, slots=True)
class FarringtonControl:
    """Classic ``farrington`` (``algo.farrington``), two-sided alpha as in the 1996 paper."""

    range: Range | None = None
    """Monitored weeks; default ``(freq*b - w, n)`` (early weeks use fewer reference values)."""
    b: int = 5
    w: int = 3
    reweight: bool = True
    alpha: float = 0.05
    """Two-sided level: the threshold uses ``qnorm(1 - alpha/2)``."""
    trend: bool = True
    limit54: tuple[int, int] = (5, 4)
    powertrans: str = "2/3"


@dataclass(frozen=True, slots=True)
class EarsControl:
    """``earsC``: the CDC's EARS C1, C2 and C3."""

    range: Range | None = None
    """Default starts at ``baseline + 1`` (C1), ``+ 3`` (C2) or ``+ 5`` (C3)."""
    method: str = "C1"
    baseline: int = 7
    minSigma: float = 0.0
    alpha: float | None = None
    """Default 0.001 for C1 and C2, 0.025 for C3."""


@dataclass(frozen=True, slots=True)
class CusumControl:
    """``cusum`` (``algo.cusum``): Rossi's approximate CUSUM on standardised counts, never reset."""

    range: Range | None = None
    """Required (R has no default)."""
    k: float = 1.04
    h: float = 2.26
    m: float | str | None = None
    """Reference mean: ``None`` = mean before the range, a number, or ``"glm"`` (seasonal Poisson)."""
    trans: str = "standard"
    """``standard``, ``rossi``, ``anscombe``, ``anscombe2nd``, ``pearsonNegBin`` or ``none``."""
    alpha: float | None = None
    """Negative binomial dispersion for ``pearsonNegBin`` (R default 0.1)."""


@dataclass(frozen=True, slots=True)
class Mu0Model:
    """How GLR estimates the in-control mean: ``S`` harmonics, optional trend, refit after alarms."""

    S: int = 1
    trend: bool = False
    refit: bool = False


@dataclass(frozen=True, slots=True)
class GlrControl:
    """``glrnb`` / ``glrpois``: GLR detectors for a change in the intercept (Höhle & Paul 2008)."""

    range: Range | None = None
    """Required (R has no default); the weeks before it train the in-control model."""
    c_ARL: float = 5.0
    """Alarm when the GLR statistic reaches this value (R's ``c.ARL``)."""
    mu0: tuple[float, ...] | Mu0Model | None = None
    """Known in-control means for the range, or the model to estimate them (default ``Mu0Model()``)."""
    alpha: float | None = None
    """Negative binomial dispersion; 0 = Poisson; ``None`` = estimated by ``glm.nb`` (glrnb)."""
    Mtilde: int = 1
    M: int = -1
    """Window: changepoints at most ``M`` weeks back (-1 = unlimited)."""
    change: str = "intercept"
    theta: float | None = None
    """Known change in the intercept (an LR CUSUM instead of a GLR)."""
    dir: str = "inc"
    ret: str = "value"
    """``"value"``: upperbound is the statistic; ``"cases"``: the count that would signal."""
    xMax: int = 10000


@dataclass(frozen=True, slots=True)
class BayesControl:
    """``bayes`` (``algo.bayes``): negative binomial predictive quantile from past weeks."""

    range: Range | None = None
    """Required (R has no default)."""
    b: int = 0
    w: int = 6
    actY: bool = True
    alpha: float = 0.05

    @classmethod
    def bayes1(cls) -> BayesControl:
        return cls(b=0, w=6, actY=True)

    @classmethod
    def bayes2(cls) -> BayesControl:
        return cls(b=1, w=6, actY=True)

    @classmethod
    def bayes3(cls) -> BayesControl:
        return cls(b=2, w=4, actY=False)


Control = FarringtonFlexibleControl | FarringtonControl | EarsControl | CusumControl | GlrControl | BayesControl


def _replace(base: FarringtonFlexibleControl, changes: dict[str, object]) -> FarringtonFlexibleControl:
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]
