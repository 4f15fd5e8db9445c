"""R's edge behaviour, pinned without R: strict alarms, NaN bounds, CUSUM without reset, GLR restart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bindeled.surveillance.outbreak import (
    BayesControl,
    CusumControl,
    EarsControl,
    FarringtonFlexibleControl,
    GlrControl,
    WeeklySeries,
    bayes,
    cusum,
    ears_c,
    farrington,
    farrington_flexible,
    glrpois,
)


def test_ears_c1_flat_baseline_bounds_at_the_mean_and_equal_count_is_no_alarm() -> None:
    series = WeeklySeries.of([4] * 7 + [4, 5])
    weeks = ears_c(series, EarsControl(method="C1", range=(8, 9))).weeks
    assert weeks[0].upperbound == 4.0 and weeks[0].alarm is False  # y == U: strict >
    assert weeks[1].alarm is True


def test_ears_c3_flat_baseline_gives_nan_bound_and_na_alarm() -> None:
    series = WeeklySeries.of([2] * 14)
    week = ears_c(series, EarsControl(method="C3")).weeks[0]
    assert math.isnan(week.upperbound)
    assert week.alarm is None


def test_bayes_alarm_is_strict() -> None:
    base = [3, 4, 3, 5, 4, 3]
    upper = bayes(WeeklySeries.of([*base, 0]), BayesControl(range=(7, 7))).weeks[0].upperbound
    at = bayes(WeeklySeries.of([*base, upper]), BayesControl(range=(7, 7))).weeks[0]
    above = bayes(WeeklySeries.of([*base, upper + 1]), BayesControl(range=(7, 7))).weeks[0]
    assert at.alarm is False and above.alarm is True


def test_cusum_is_not_reset_after_an_alarm() -> None:
    series = WeeklySeries.of([5] * 20 + [20, 5, 5])
    weeks = cusum(series, CusumControl(range=(21, 23))).weeks
    assert [w.alarm for w in weeks] == [True, True, True]
    assert weeks[1].statistic == pytest.approx(weeks[0].statistic - 1.04)


def test_glr_restarts_after_an_alarm() -> None:
    rng = np.random.default_rng(7)
    counts = list(rng.poisson(5, 120))
    counts[80] = 30
    series = WeeklySeries.of(counts)
    mu0 = tuple([5.0] * 40)
    weeks = glrpois(series, GlrControl(range=(81, 120), mu0=mu0)).weeks
    assert weeks[0].alarm is True
    fresh = glrpois(WeeklySeries.of(counts), GlrControl(range=(82, 120), mu0=mu0[1:])).weeks
    assert [w.upperbound for w in weeks[1:]] == [w.upperbound for w in fresh]


def test_flexible_limit54_blocks_alarm_with_na_bound() -> None:
    counts = [1] * 300
    counts[-4:] = [0, 0, 1, 3]  # 4 cases in the last 4 weeks: below limit54's 5
    result = farrington_flexible(WeeklySeries.of(counts), FarringtonFlexibleControl(range=(300, 300)))
    week = result.weeks[0]
    assert week.alarm is False and math.isnan(week.upperbound)


def test_classic_limit54_gives_zero_bound() -> None:
    counts = [1] * 300
    week = farrington(WeeklySeries.of(counts)).weeks[-1]
    assert week.upperbound == 0.0 and week.alarm is False


def test_r_compat_off_differs_only_in_dispersion_use() -> None:
    rng = np.random.default_rng(3)
    counts = rng.negative_binomial(3, 0.3, 320)
    series = WeeklySeries.of(counts)
    quirk = farrington_flexible(series, FarringtonFlexibleControl())
    fixed = farrington_flexible(series, FarringtonFlexibleControl(r_compat=False))
    same_trend = [(a, b) for a, b in zip(quirk.weeks, fixed.weeks, strict=True) if a.trend == b.trend]
    assert same_trend and all(a.phi == b.phi for a, b in same_trend)  # phi itself is right in R
    assert any(a.upperbound != b.upperbound for a, b in zip(quirk.weeks, fixed.weeks, strict=True))
    assert fixed.control["r_compat"] is False


def test_reference_weeks_missing_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="decrease b"):
        farrington_flexible(WeeklySeries.of([1] * 300), FarringtonFlexibleControl(range=(100, 300)))
