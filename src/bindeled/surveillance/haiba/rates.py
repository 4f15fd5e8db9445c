"""Rates per 10,000 risk days at any level: counted episodes over summed risk time.

Risk time is summed in integer microseconds before it is turned into days, so the same data give
the same rates whatever the order of the input rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from bindeled.errors import InvalidRequest

__all__ = ["LEVELS", "rates"]

LEVELS: Mapping[str, tuple[str, ...]] = {
    "national": (),
    "region": ("region",),
    "hospital": ("hospital",),
    "department": ("hospital", "department"),
    "ward": ("hospital", "ward"),
    "week": ("iso_year", "iso_week"),
    "month": ("year", "month"),
}
"""Named levels → grouping columns (any combination of these columns is accepted too)."""

_DAY_US = 86_400_000_000
_PER = 10_000


def _keys(level: str | Sequence[str]) -> list[str]:
    if isinstance(level, str):
        if level not in LEVELS:
            raise InvalidRequest(f"unknown level {level!r}; known: {', '.join(LEVELS)}", location=("level",))
        return list(LEVELS[level])
    allowed = {c for cols in LEVELS.values() for c in cols}
    unknown = [c for c in level if c not in allowed]
    if unknown:
        raise InvalidRequest(f"cannot group rates by {unknown}", location=("level",))
    return list(level)


def rates(episodes: pl.DataFrame, risk: pl.DataFrame, level: str | Sequence[str]) -> pl.DataFrame:
    """Per infection and level: ``episodes``, ``risk_days``, ``rate_per_10000`` (null without risk time)."""
    keys = ["infection", *_keys(level)]
    counted = episodes.filter(pl.col("counted")).group_by(keys).agg(pl.len().cast(pl.Int64).alias("episodes"))
    time = risk.group_by(keys).agg(pl.col("risk_us").sum())
    joined = time.join(counted, on=keys, how="full", coalesce=True, nulls_equal=True)
    joined = joined.with_columns(pl.col("episodes").fill_null(0), pl.col("risk_us").fill_null(0))
    days = pl.col("risk_us") / _DAY_US
    out = joined.with_columns(
        risk_days=days,
        rate_per_10000=pl.when(pl.col("risk_us") > 0).then(pl.col("episodes") / days * _PER),
    )
    return out.select(*keys, "episodes", "risk_us", "risk_days", "rate_per_10000").sort(keys, nulls_last=True)
