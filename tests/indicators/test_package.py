"""The indicator packages' public names are pinned."""

from __future__ import annotations

from bindeled import indicators
from bindeled.indicators import rollout


def test_public_names() -> None:
    assert sorted(indicators.__all__) == [
        "Indicator",
        "IndicatorDefinition",
        "MESSAGE_ACKNOWLEDGED",
        "MESSAGE_TRAFFIC",
        "MunicipalityIndex",
        "OVERVIEW_USE",
        "OverviewUseAggregate",
        "SUPPRESSION_THRESHOLD",
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
    assert sorted(rollout.__all__) == [
        "MunicipalityRollout",
        "OrganisationReadiness",
        "RolloutPlan",
        "RolloutRegister",
        "RolloutView",
        "SERVICES",
        "Service",
        "ServiceReadiness",
        "assess",
        "decode_plan",
        "rollout_view",
        "view_json",
    ]
    assert all(hasattr(indicators, name) for name in indicators.__all__)
    assert all(hasattr(rollout, name) for name in rollout.__all__)
