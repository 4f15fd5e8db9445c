"""Outbreak detection on weekly counts, numerically equivalent to R's ``surveillance`` 1.20.3.

One function per method, each taking a :class:`WeeklySeries` and a typed control record that uses
R's control names and defaults, and returning a :class:`DetectionResult` with one
:class:`WeekResult` per monitored week (``t`` 1-based, ``observed``, ``upperbound``, ``alarm`` —
``None`` where R gives ``NA`` — plus the method's internals)::

    farrington_flexible(series, FarringtonFlexibleControl())            # package defaults
    farrington_flexible(series, FarringtonFlexibleControl.original_1996())
    farrington_flexible(series, FarringtonFlexibleControl.noufaily())   # nbPlugin; "muan" too
    farrington(series, FarringtonControl())                             # classic algo.farrington
    ears_c(series, EarsControl(method="C3"))
    cusum(series, CusumControl(range=(105, 260)))
    glrnb(series, GlrControl(range=(105, 260)))                         # alpha by glm.nb
    glrpois(series, GlrControl(range=(105, 260)))
    bayes(series, BayesControl(range=(60, 260), b=1))                  # Bayes 2

``detect(method, series, control)`` dispatches on R's method names, and
``control_from_r_json(method, text)`` reads R-style control JSON. R's edge behaviour is kept:
strict ``>`` alarms for EARS and Bayes, NaN bounds on flat baselines, CUSUM without reset, GLR
restart after an alarm. ``FarringtonFlexibleControl.r_compat=False`` corrects R's dispersion quirk.
"""

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
    Mu0Model,
)
from .cusum import cusum
from .detect import detect
from .ears import ears_c
from .farrington import farrington
from .farrington_flexible import farrington_flexible
from .glr import glrnb, glrpois
from .result import DetectionResult, WeekResult
from .rjson import METHODS, ControlError, control_from_r_json
from .series import WeeklySeries

__all__ = [
    "METHODS",
    "BayesControl",
    "Control",
    "ControlError",
    "CusumControl",
    "DetectionResult",
    "EarsControl",
    "FarringtonControl",
    "FarringtonFlexibleControl",
    "GlrControl",
    "Mu0Model",
    "WeekResult",
    "WeeklySeries",
    "bayes",
    "control_from_r_json",
    "cusum",
    "detect",
    "ears_c",
    "farrington",
    "farrington_flexible",
    "glrnb",
    "glrpois",
]
