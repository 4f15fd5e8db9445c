"""``detect``: run a detector by its R name, checking that the control record fits the method."""

from __future__ import annotations

from .bayes import bayes
from .controls import (
    BayesControl,
    Control,
    CusumControl,
    EarsControl,
    FarringtonControl,
    FarringtonFlexibleControl,
    GlrControl,
)
from .cusum import cusum
from .ears import ears_c
from .farrington import farrington
from .farrington_flexible import farrington_flexible
from .glr import glrnb, glrpois
from .result import DetectionResult
from .series import WeeklySeries

__all__ = ["detect"]


def detect(method: str, series: WeeklySeries, control: Control) -> DetectionResult:
    """Run ``method`` (an R function name, e.g. ``"farringtonFlexible"``) with ``control``.

    Raises ``ValueError`` for an unknown method, a control of the wrong kind, or controls R rejects.
    """
    match method, control:
        case "farringtonFlexible", FarringtonFlexibleControl():
            return farrington_flexible(series, control)
        case "farrington", FarringtonControl():
            return farrington(series, control)
        case "earsC", EarsControl():
            return ears_c(series, control)
        case "cusum", CusumControl():
            return cusum(series, control)
        case "glrnb", GlrControl():
            return glrnb(series, control)
        case "glrpois", GlrControl():
            return glrpois(series, control)
        case "bayes", BayesControl():
            return bayes(series, control)
    raise ValueError(f"method {method!r} does not take a {type(control).__name__}")
