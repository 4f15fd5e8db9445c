"""Use of the overview per municipality, from AuditEvents and the synthetic SOR register."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bindeled.indicators import MunicipalityIndex, overview_use
from bindeled.registry import SorTree, synthetic_region
from bindeled.registry.fhir import tree_resources
from bindeled.security.audit import build_audit_event
from bindeled.security.principal import Principal

HOME_NURSING, MEDICAL = "12559999999100", "10079999999100"
PERIOD = (date(2026, 11, 1), date(2026, 12, 1))


@pytest.fixture(scope="module")
def index() -> MunicipalityIndex:
    tree = SorTree.from_export(synthetic_region())
    organizations = [r for r in tree_resources(tree, date(2026, 11, 1)) if r["resourceType"] == "Organization"]
    return MunicipalityIndex.from_organizations(organizations)


def _event(unit: str | None, purpose: str | None, *, outcome: str = "0", day: int = 5, kind: str = "hcp") -> Any:
    principal = Principal(
        user_type=kind,  # type: ignore[arg-type]
        user_id="u1",
        full_name="Nanna",
        organisation_sor=unit,
        purpose=purpose,
        role="nurse",
    )
    return build_audit_event(
        interaction="read",
        recorded=datetime(2026, 11, day, 10, tzinfo=UTC),
        outcome=outcome,  # type: ignore[arg-type]
        principal=principal,
        resource_type="Patient",
    )


def test_units_map_to_their_municipality(index: MunicipalityIndex) -> None:
    found = index.municipality_of(HOME_NURSING)
    assert found is not None and found[1] == "Odense Kommune"
    assert index.municipality_of("99999999999999") is None
    assert len(index.municipalities()) == 22


def _unit_in(index: MunicipalityIndex, code: str) -> str:
    tree = SorTree.from_export(synthetic_region())
    return next(e.sor_code for e in tree if (index.municipality_of(e.sor_code) or ("", ""))[0] == code)


def test_overview_requests_are_counted_per_municipality_with_small_cells_suppressed(index: MunicipalityIndex) -> None:
    svendborg = _unit_in(index, "0479")
    events = [_event(HOME_NURSING, "ESP_APPOINTMENTS") for _ in range(6)]
    events += [_event(HOME_NURSING, "ESP_STAMKORT"), _event(HOME_NURSING, "ESP_APPOINTMENTS", day=30)]
    events += [_event(svendborg, "ESP_PLANS") for _ in range(3)]
    events += [_event(MEDICAL, "ESP_PLANS") for _ in range(2)]  # a hospital unit: in the region, no municipality
    events += [_event(HOME_NURSING, "LAB_READ"), _event(HOME_NURSING, "FMK_READ")]  # not overview purposes
    events += [_event(HOME_NURSING, "ESP_APPOINTMENTS", outcome="4")]  # refused
    events += [_event(None, None, kind="citizen")]
    events += [_event(HOME_NURSING, "ESP_PLANS", day=1).copy() | {"recorded": "2026-10-31T23:00:00+00:00"}]
    cells = overview_use(events, index.municipality_of, PERIOD, index.municipalities())
    assert len(cells) == 22
    by_name = {c.geography_name: c for c in cells}
    total = 6 + 2 + 3 + 2
    odense, small = by_name["Odense Kommune"], by_name["Svendborg Kommune"]
    assert (odense.numerator, odense.denominator, odense.suppressed) == (8, total, False)
    assert odense.value == pytest.approx(8 / total)
    assert small.suppressed and small.numerator is None and small.value is None and small.denominator == total
    others = [c for c in cells if c.geography_name not in ("Odense Kommune", "Svendborg Kommune")]
    assert all(c.numerator == 0 and c.value == 0 and not c.suppressed for c in others)
    assert {c.id for c in cells} == {"bindeled.overview-use"} and {c.geography_level for c in cells} == {"municipality"}
