"""The 48-hour windows to the minute (DOMAIN.md 7.2, 7.3) and overlapping readmission windows."""

from __future__ import annotations

import polars as pl
import pytest

from bindeled.surveillance.haiba import definition
from tests.surveillance.haiba.cases import T0, Case, D, H, M

E_COLI = "Escherichia coli"


def _classes(result_episodes: pl.DataFrame, infection: str = "bacteraemia") -> list[str]:
    return result_episodes.filter(pl.col("infection") == infection)["class"].to_list()


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(48 * H, ["HA"]), (48 * H - M, ["community"]), (10 * D + 48 * H, ["HA"]), (10 * D + 48 * H + M, ["community"])],
    ids=["start+48:00", "start+47:59", "end+48:00", "end+48:01"],
)
def test_window_edges(case: Case, offset, expected) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + offset, E_COLI)
    assert _classes(case.run().episodes) == expected


def test_window_is_measured_in_elapsed_hours_across_dst(case: Case) -> None:
    # 2024-03-31 02:00 Copenhagen clocks jump forward; the window still opens 48 real hours later.
    start = T0.replace(month=3, day=30, hour=12)
    case.contact(start, start + 5 * D).sample(start + 48 * H - M, E_COLI, patient="p1")
    case.contact(start, start + 5 * D, patient="p2").sample(start + 48 * H, E_COLI, patient="p2")
    assert case.run().episodes.sort("patient")["class"].to_list() == ["community", "HA"]


@pytest.mark.parametrize(("offset", "expected"), [(48 * H, []), (48 * H + M, ["HA"])])
def test_old_uti_window_excludes_exactly_48_hours(case: Case, offset, expected) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + offset, E_COLI, material="30001", cfu=1e5)
    old = case.run(definition=definition("haiba-2015"))
    assert _classes(old.episodes, "uti") == expected
    new = case.run()
    assert _classes(new.episodes, "uti") == ["HA"]
    assert old.version.startswith("haiba/2015") and new.version.startswith("haiba/2019")


def test_readmission_within_48_hours_hands_over_once_48_hours_in(case: Case) -> None:
    # Discharged at T0+5d, readmitted 24 h later: the first window runs to T0+7d, the second opens at T0+8d.
    case.contact(T0, T0 + 5 * D, department="first").contact(T0 + 6 * D, T0 + 20 * D, department="second")
    case.sample(T0 + 6 * D + 12 * H, E_COLI, patient="p1")
    result = case.run()
    episode = result.episodes.filter(pl.col("infection") == "bacteraemia").row(0, named=True)
    assert (episode["class"], episode["department"]) == ("HA", "first")
    assert result.admissions.height == 2


def test_later_admission_takes_over_from_its_window_start(case: Case) -> None:
    case.contact(T0, T0 + 5 * D, department="first").contact(T0 + 6 * D, T0 + 20 * D, department="second")
    case.sample(T0 + 8 * D, E_COLI)
    episode = case.run().episodes.filter(pl.col("infection") == "bacteraemia").row(0, named=True)
    assert (episode["class"], episode["department"]) == ("HA", "second")


def test_positive_outside_any_contact_is_community(case: Case) -> None:
    case.contact(T0, T0 + 2 * D).sample(T0 + 30 * D, E_COLI)
    episode = case.run().episodes.row(0, named=True)
    assert episode["class"] == "community"
    assert episode["admission"] is None and episode["department"] is None
