"""The plain-pass group windows HAIBA uses give what Polars' ``.over`` gives on a sorted frame.

Random frames with groups of 1 to 40 rows (several doubling passes), two-column keys, string and
integer keys, and null values, compared with the ``.over`` form they replace.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_series_equal

from bindeled.surveillance.haiba.sorted_groups import (
    cum_max_in_group,
    cum_sum_in_group,
    first_in_group,
    last_in_group,
    row_in_group,
    shift_in_group,
)


def _frame(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 41, 300)
    patient = np.repeat(np.arange(sizes.size), sizes)
    value = rng.integers(-1_000, 1_000, patient.size).astype(float)
    value[rng.random(patient.size) < 0.05] = np.nan
    frame = pl.DataFrame(
        {
            "patient": patient.astype(str),
            "group": rng.integers(0, 3, patient.size),
            "value": value,
            "flag": rng.random(patient.size) < 0.3,
        }
    ).with_columns(pl.col("value").fill_nan(None))
    return frame.sort("patient", "group")


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("keys", [["patient"], ["patient", "group"]])
def test_shifts_and_group_edges_match_over(seed: int, keys: list[str]) -> None:
    frame = _frame(seed)
    for n in (1, -1, 2):
        got = frame.select(shift_in_group(pl.col("value"), keys, n)).to_series()
        want = frame.select(pl.col("value").shift(n).over(keys)).to_series()
        assert_series_equal(got, want, check_names=False)
    row = frame.select(pl.int_range(1, pl.len() + 1).over(keys)).to_series()
    assert_series_equal(frame.select(row_in_group(keys)).to_series(), row, check_names=False, check_dtypes=False)
    assert (frame.select(first_in_group(keys)).to_series() == (row == 1)).all()
    size = frame.select(pl.len().over(keys)).to_series()
    assert (frame.select(last_in_group(keys)).to_series() == (row == size)).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("keys", [["patient"], ["patient", "group"]])
def test_running_sum_and_max_match_over(seed: int, keys: list[str]) -> None:
    frame = _frame(seed).with_columns(pl.col("value").fill_null(0.0))
    got = cum_max_in_group(frame, "value", keys, "reach")["reach"]
    want = frame.select(pl.col("value").cum_max().over(keys)).to_series()
    assert_series_equal(got, want, check_names=False)
    flags = pl.col("flag").cast(pl.Int64)
    got_sum = frame.select(cum_sum_in_group(flags, keys)).to_series()
    want_sum = frame.select(flags.cum_sum().over(keys)).to_series()
    assert_series_equal(got_sum, want_sum, check_names=False)


def test_empty_frame() -> None:
    empty = pl.DataFrame(schema={"patient": pl.String, "value": pl.Float64})
    assert cum_max_in_group(empty, "value", ["patient"], "reach").columns == ["patient", "value", "reach"]
    assert empty.select(shift_in_group(pl.col("value"), ["patient"])).height == 0
