"""Rates per 10,000 risk days at every level, and their independence from input row order."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from bindeled.errors import InvalidRequest
from bindeled.surveillance.haiba import LEVELS, HaibaData, run
from tests.surveillance.haiba.cases import CUTOFF, T0, Case, D, random_case


def test_rate_is_episodes_per_10000_risk_days(case: Case) -> None:
    case.contact(T0, T0 + 40 * D, patient="a").sample(T0 + 12 * D, "Escherichia coli", patient="a")
    case.contact(T0, T0 + 30 * D, patient="b")
    national = case.run(infections=["bacteraemia"]).rates("national").row(0, named=True)
    assert national["episodes"] == 1
    assert national["risk_days"] == pytest.approx(10 + 30)
    assert national["rate_per_10000"] == pytest.approx(1 / 40 * 10_000)


def test_every_level_is_available(case: Case) -> None:
    case.contact(T0, T0 + 20 * D, hospital="H1", department="A", region="R1").stay(T0, T0 + 20 * D, "W1")
    case.contact(T0, T0 + 20 * D, hospital="H2", department="B", region="R2", patient="q")
    case.sample(T0 + 5 * D, "Escherichia coli")
    result = case.run(infections=["bacteraemia"])
    for level, keys in LEVELS.items():
        table = result.rates(level)
        assert set(keys) <= set(table.columns)
        assert table["episodes"].sum() == 1, level
        assert table["definition"].unique().to_list() == [result.version]
    by_hospital = result.rates("hospital").select("hospital", "episodes").rows()
    assert by_hospital == [("H1", 1), ("H2", 0)]
    assert result.rates(["region", "year", "month"]).height == 2


def test_unknown_level_is_refused(case: Case) -> None:
    result = case.contact(T0, T0 + 3 * D).run()
    with pytest.raises(InvalidRequest):
        result.rates("county")
    with pytest.raises(InvalidRequest):
        result.rates(["patient"])


def test_no_risk_time_gives_no_rate(case: Case) -> None:
    case.contact(T0, T0 + 3 * D).sample(T0 + 2 * D, "Escherichia coli")
    national = case.run(infections=["bacteraemia"]).rates("national").row(0, named=True)
    assert (national["episodes"], national["risk_us"], national["rate_per_10000"]) == (1, 0, None)


def _shuffled(data: HaibaData, rng: random.Random) -> HaibaData:
    def mix(frame: pl.LazyFrame) -> pl.DataFrame:
        df = frame.collect()
        order = list(range(df.height))
        rng.shuffle(order)
        return df[order]

    return HaibaData.from_frames(
        contacts=mix(data.contacts),
        lab_results=mix(data.lab_results),
        stays=mix(data.stays),
        persons=mix(data.persons),
        deaths=mix(data.deaths),
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 2**32))
def test_rates_do_not_depend_on_row_order(seed: int, shuffle: int) -> None:
    data = random_case(random.Random(seed), patients=6).data()
    first = run(data, as_of=CUTOFF)
    second = run(_shuffled(data, random.Random(shuffle)), as_of=CUTOFF)
    for level in LEVELS:
        assert_frame_equal(first.rates(level), second.rates(level))
    assert_frame_equal(first.episodes, second.episodes)
