"""Indicators: counts over time and geography, with small cells suppressed and medication data kept out.

``record`` holds the indicator record every indicator produces; ``geography`` maps SOR units to
municipalities, and ``sor_tree`` rebuilds the register's tree from its stored Organizations. Each
indicator has its own module: ``overview_use`` (use of the overview per municipality, from the audit
trail, counted incrementally by ``overview_use_store``) and ``message_traffic`` (MedCom letters and
acknowledgements per message type and municipality, from the hub's delivery statistics).
``rollout`` is the operators' view of which organisations are ready for which service.
"""

from .geography import MunicipalityIndex
from .message_traffic import MESSAGE_ACKNOWLEDGED, MESSAGE_TRAFFIC, TrafficRow, traffic_csv, traffic_rows
from .overview_use import OVERVIEW_USE, overview_use, overview_use_cells
from .overview_use_store import OverviewUseAggregate
from .record import SUPPRESSION_THRESHOLD, Indicator, IndicatorDefinition, indicator, to_csv
from .sor_tree import read_organizations, sor_tree_from_organizations

__all__ = [
    "MESSAGE_ACKNOWLEDGED",
    "MESSAGE_TRAFFIC",
    "OVERVIEW_USE",
    "SUPPRESSION_THRESHOLD",
    "Indicator",
    "IndicatorDefinition",
    "MunicipalityIndex",
    "OverviewUseAggregate",
    "TrafficRow",
    "indicator",
    "overview_use",
    "overview_use_cells",
    "read_organizations",
    "sor_tree_from_organizations",
    "to_csv",
    "traffic_csv",
    "traffic_rows",
]
