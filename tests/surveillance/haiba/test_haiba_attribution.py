"""Attribution: the ward and department 48 hours before sampling (DOMAIN.md 7.8), COHA to the discharging one."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from bindeled.surveillance.haiba import definition
from tests.surveillance.haiba.cases import T0, Case, D, H, M

E_COLI = "Escherichia coli"


@pytest.mark.parametrize(
    ("move_before_sample", "ward"), [(47 * H, "W-old"), (49 * H, "W-new"), (48 * H, "W-new"), (48 * H - M, "W-old")]
)
def test_ward_move_before_sampling(case: Case, move_before_sample, ward: str) -> None:
    sampled = T0 + 6 * D
    move = sampled - move_before_sample
    case.contact(T0, T0 + 10 * D).stay(T0, move, "W-old").stay(move, T0 + 10 * D, "W-new")
    case.sample(sampled, E_COLI)
    assert case.run().episodes["ward"].to_list() == [ward]


@pytest.mark.parametrize(("after_move", "department"), [(47 * H, "ICU"), (48 * H, "surgery")])
def test_department_responsible_48_hours_before_sampling(case: Case, after_move, department: str) -> None:
    case.contact(T0, T0 + 3 * D, department="ICU").contact(T0 + 3 * D, T0 + 5 * D, department="surgery")
    case.sample(T0 + 3 * D + after_move, E_COLI)
    assert case.run().episodes.select("class", "department", "admission").rows() == [("HA", department, 1)]


def test_post_discharge_episode_goes_to_the_discharging_department(case: Case) -> None:
    case.contact(T0, T0 + 3 * D, department="ICU").contact(T0 + 3 * D, T0 + 5 * D, department="surgery")
    case.sample(T0 + 5 * D + 48 * H, E_COLI)
    assert case.run().episodes.select("class", "department").rows() == [("HA", "surgery")]


def test_ward_unknown_when_no_stay_is_recorded(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).stay(T0 + 5 * D, T0 + 10 * D, "W1").sample(T0 + 3 * D, E_COLI)
    assert case.run().episodes["ward"].to_list() == [None]


def _cdi(case: Case, at, name: str = "haiba") -> pl.DataFrame:
    case.person(date(1960, 1, 1)).sample(
        at, "Clostridioides difficile", material="feces", analysis="pcr", toxigenic=True
    )
    return case.run(definition=definition(name), infections=["cdi"]).episodes


@pytest.mark.parametrize(
    ("after_discharge", "expected"),
    [(48 * H, "HA"), (48 * H + M, "COHA"), (30 * D, "COHA"), (30 * D + M, "community")],
)
def test_cdi_after_discharge(case: Case, after_discharge, expected: str) -> None:
    case.contact(T0, T0 + 5 * D, department="medicine").contact(T0 + 5 * D, T0 + 6 * D, department="geriatrics")
    episode = _cdi(case, T0 + 6 * D + after_discharge).row(0, named=True)
    assert episode["class"] == expected
    if expected == "COHA":
        assert episode["department"] == "geriatrics"


def test_cdi_early_in_a_readmission_after_a_recent_contact_is_coha(case: Case) -> None:
    case.contact(T0, T0 + 5 * D, department="medicine").contact(T0 + 25 * D, T0 + 35 * D, department="ortho")
    episode = _cdi(case, T0 + 25 * D + 12 * H).row(0, named=True)
    assert (episode["class"], episode["department"]) == ("COHA", "medicine")


def test_cdi_early_in_an_admission_without_recent_contact_is_community(case: Case) -> None:
    case.contact(T0, T0 + 5 * D).contact(T0 + 40 * D, T0 + 50 * D)
    assert _cdi(case, T0 + 40 * D + 12 * H)["class"].to_list() == ["community"]


def test_ecdc_cdi_indeterminate_between_4_and_12_weeks(case: Case) -> None:
    case.contact(T0, T0 + 5 * D)
    assert _cdi(case, T0 + 5 * D + 50 * D, "ecdc")["class"].to_list() == ["indeterminate"]
    assert _cdi(Case().contact(T0, T0 + 5 * D), T0 + 5 * D + 90 * D, "ecdc")["class"].to_list() == ["community"]
