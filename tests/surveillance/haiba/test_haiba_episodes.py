"""Episode rules: HAIBA's anchored 30 days (DOMAIN.md 7.5), CDI's 56 days, NHSN's restarting 14 days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from bindeled.surveillance.haiba import EpisodeRule, definition
from bindeled.surveillance.haiba.episodes import first_positives, number_episodes
from tests.surveillance.haiba.cases import T0, Case, D

S_AUREUS = "Staphylococcus aureus"


def _positives(offsets: list[timedelta], patient: str = "p1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient": [patient] * len(offsets),
            "infection": ["bacteraemia"] * len(offsets),
            "sample_id": [f"s{i}" for i in range(len(offsets))],
            "sampled_at": [T0 + o for o in offsets],
            "organisms": [S_AUREUS] * len(offsets),
        }
    )


@pytest.mark.parametrize(
    ("days", "episodes"),
    [([0, 29, 31], 2), ([0, 30], 1), ([0, 20, 40], 2), ([0, 31, 62, 93], 4), ([0, 10, 20, 30, 40, 50, 60], 2)],
)
def test_anchored_thirty_days(days: list[int], episodes: int) -> None:
    numbered = number_episodes(_positives([d * D for d in days]), EpisodeRule(30))
    assert numbered["episode"].max() == episodes


def test_thirty_days_to_the_microsecond() -> None:
    just_over = number_episodes(_positives([timedelta(0), 30 * D + timedelta(microseconds=1)]), EpisodeRule(30))
    assert just_over["episode"].to_list() == [1, 2]


def test_restarting_rule_chains_duplicates() -> None:
    offsets = [d * D for d in (0, 10, 20, 30, 45)]
    numbered = number_episodes(_positives(offsets), EpisodeRule(14, anchor="previous"))
    assert numbered["episode"].to_list() == [1, 1, 1, 1, 2]


def test_recurrence_within_56_days() -> None:
    rule = EpisodeRule(14, anchor="previous", recurrent_within_days=56)
    numbered = number_episodes(_positives([d * D for d in (0, 20, 100)]), rule)
    assert first_positives(numbered, rule)["recurrent"].to_list() == [False, True, False]


def test_patients_are_independent() -> None:
    both = pl.concat([_positives([timedelta(0), 31 * D], "a"), _positives([timedelta(0), 5 * D], "b")])
    numbered = number_episodes(both, EpisodeRule(30))
    assert numbered.group_by("patient").agg(pl.col("episode").max()).sort("patient")["episode"].to_list() == [2, 1]


def test_episode_takes_the_class_of_its_first_positive(case: Case) -> None:
    # Community positive on the day of admission, HA-timed repeat on day 5: one community episode.
    case.contact(T0, T0 + 20 * D).sample(T0, S_AUREUS).sample(T0 + 5 * D, S_AUREUS)
    episodes = case.run().episodes
    assert episodes.select("class", "positives").rows() == [("community", 2)]
    assert episodes["counted"].to_list() == [False]


def test_second_ha_episode_in_the_same_admission_is_not_counted(case: Case) -> None:
    # Risk time ends at the admission's first HA episode, so a later one is listed but not counted.
    case.contact(T0, T0 + 80 * D).sample(T0 + 3 * D, S_AUREUS).sample(T0 + 40 * D, S_AUREUS)
    episodes = case.run().episodes
    assert episodes.select("class", "counted").rows() == [("HA", True), ("HA", False)]


def test_cdi_new_episode_only_after_56_days(case: Case) -> None:
    case.person(date(1950, 1, 1))
    for day in (3, 59, 60):
        case.contact(T0 + (day - 3) * D, T0 + (day + 2) * D)
        case.sample(T0 + day * D, "Clostridioides difficile", material="feces", analysis="pcr")
    cdi = case.run().episodes.filter(pl.col("infection") == "cdi")
    assert cdi.select("episode", "positives").rows() == [(1, 2), (2, 1)]


def test_old_uti_first_per_admission_then_14_days(case: Case) -> None:
    urine = {"material": "30001", "cfu": 1e5}
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, "Escherichia coli", **urine)
    case.sample(T0 + 5 * D, "Escherichia coli", **urine)  # same admission: not a new episode
    case.contact(T0 + 11 * D, T0 + 20 * D).sample(T0 + 14 * D, "Escherichia coli", **urine)  # 11 days later: no
    case.contact(T0 + 30 * D, T0 + 40 * D).sample(T0 + 33 * D, "Escherichia coli", **urine)  # 30 days later: yes
    uti = case.run(definition=definition("haiba-2015"), infections=["uti"]).episodes
    assert uti["sampled_at"].to_list() == [T0 + 3 * D, T0 + 33 * D]
    assert uti["class"].to_list() == ["HA", "HA"]


def test_no_positives_gives_no_episodes(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, None)
    result = case.run()
    assert result.episodes.height == 0
    assert isinstance(result.as_of, datetime)
