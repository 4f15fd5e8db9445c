"""Version resolution by hashed keys gives exactly what grouping by the keys themselves gives."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_series_equal

from bindeled.surveillance.haiba._kernels import latest_versions
from bindeled.surveillance.haiba.frames import latest_rows


def _versions(seed: int) -> pl.DataFrame:
    """Samples with one to three versions, some versions several rows (isolates), some instants null."""
    rng = np.random.default_rng(seed)
    rows = 5_000
    received = rng.integers(0, 5, rows).astype(float)
    received[rng.random(rows) < 0.02] = np.nan
    return pl.DataFrame(
        {
            "sample_id": rng.integers(0, 1_500, rows).astype(str),
            "analysis": pl.Series(rng.choice(["culture", "pcr"], rows)).set(pl.Series(rng.random(rows) < 0.1), None),
            "received_at": received,
        }
    ).with_columns(
        pl.col("received_at").fill_nan(None).cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_latest_rows_match_grouping_by_the_keys(seed: int) -> None:
    frame = _versions(seed)
    keys = ["sample_id", "analysis"]
    want = frame.select((pl.col("received_at") == pl.col("received_at").max().over(keys)).fill_null(value=False))
    got = latest_rows([frame["sample_id"], frame["analysis"], frame["received_at"]])
    assert_series_equal(got, want.to_series(), check_names=False)
    assert 0 < got.sum() < frame.height


def test_two_keys_sharing_the_first_hash_are_noticed() -> None:
    same_first = np.array([5, 5, 9], np.int64)
    keep, clash = latest_versions(same_first, np.array([1, 2, 3], np.int64), np.array([10, 20, 30], np.int64))
    assert clash
    keep, clash = latest_versions(same_first, np.array([1, 1, 3], np.int64), np.array([10, 20, 30], np.int64))
    assert not clash and keep.tolist() == [False, True, True]
