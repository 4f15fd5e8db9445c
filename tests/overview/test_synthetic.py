"""The synthetic overview data: seeded, marked synthetic, and shaped as the write rules would leave it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bindeled.demo.patients import SYNTHETIC_TAG, synthetic_citizens
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.overview.appointment_model import (
    AT_HOME,
    CONTACT_PHONE,
    CUSTODIAN,
    LEGAL_BASIS,
    OWNER_TYPE,
    PERFORMER,
)
from bindeled.overview.appointment_rules import DEFAULT_LEGAL_BASES, extension_value
from bindeled.overview.plan_rules import intervention_status
from bindeled.overview.synthetic import OverviewUnits, overview_units, synthetic_overview
from bindeled.registry import SorTree, synthetic_region

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def units() -> OverviewUnits:
    return overview_units(SorTree.from_export(synthetic_region()), NOW.date())


def _data(units: OverviewUnits, seed: int = 5) -> list[list[dict[str, Any]]]:
    patients = [group[0] for group in synthetic_citizens(30, seed=2)]
    return list(synthetic_overview(patients, units, now=NOW, seed=seed))


def test_every_sector_is_represented(units: OverviewUnits) -> None:
    assert units.wards and units.practices and units.home_care
    owners = {
        extension_value(r, OWNER_TYPE) for group in _data(units) for r in group if r["resourceType"] == "Appointment"
    }
    assert owners == {"municipal", "regional", "practice"}


def test_same_seed_same_data_and_all_synthetic(units: OverviewUnits) -> None:
    first, again, other = _data(units), _data(units), _data(units, seed=6)
    assert first == again and first != other
    for group in first:
        assert all(SYNTHETIC_TAG in r["meta"]["tag"] for r in group)
        cpr = group[0]["identifier"][0]["value"]
        assert int(cpr[:2]) > 60  # substitute numbers only


def test_appointments_and_plans_follow_the_rules(units: OverviewUnits) -> None:
    for group in _data(units):
        for resource in group:
            if resource["resourceType"] == "Appointment":
                assert extension_value(resource, PERFORMER) and extension_value(resource, CUSTODIAN)
                assert resource["reasonCode"] and resource["start"] < resource["end"]
                if extension_value(resource, OWNER_TYPE) == "municipal":
                    assert extension_value(resource, AT_HOME) is True
                    assert extension_value(resource, LEGAL_BASIS)["code"] in DEFAULT_LEGAL_BASES
                else:
                    assert extension_value(resource, CONTACT_PHONE)["value"].startswith("99")
            if resource["resourceType"] == "CarePlan":
                details = [a["detail"] for a in resource["activity"]]
                assert all(intervention_status(d) in ("planned", "active") for d in details)


def test_every_resource_is_valid_r4(units: OverviewUnits, definitions: Definitions) -> None:
    validator = Validator(definitions)
    for group in _data(units)[:10]:
        for resource in group:
            errors = [i for i in validator.validate(resource, ()) if i.is_error]
            assert not errors, (resource["resourceType"], errors)
