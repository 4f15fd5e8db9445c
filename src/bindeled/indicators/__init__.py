"""Indicators: counts over time and geography, with small cells suppressed and medication data kept out.

``record`` holds the indicator record every indicator produces; ``geography`` maps SOR units to
municipalities; each indicator has its own module (``overview_use``: use of the overview per
municipality, from the audit trail).
"""

from .geography import MunicipalityIndex
from .overview_use import OVERVIEW_USE, overview_use
from .record import SUPPRESSION_THRESHOLD, Indicator, IndicatorDefinition, indicator, to_csv

__all__ = [
    "OVERVIEW_USE",
    "SUPPRESSION_THRESHOLD",
    "Indicator",
    "IndicatorDefinition",
    "MunicipalityIndex",
    "indicator",
    "overview_use",
    "to_csv",
]
