"""Risk time: per admission, then split exactly at unit changes, ISO weeks and months.

Risk time runs through the admission's window (the first 48 h are not risk time), from the age limit
on, and stops at the window's end, the next admission's window, the first counted hospital-acquired
episode, death, the data cut-off or the period's end, whichever comes first. An instant of risk time
is charged to the unit the patient was in ``attribution_lag`` before it, exactly as an episode
sampled at that instant would be, so numerator and denominator always describe the same unit.
Durations are integer microseconds, so pieces add up to their whole exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from bindeled.surveillance.haiba.definition import InfectionRule
from bindeled.surveillance.haiba.episodes import calendar_labels
from bindeled.surveillance.haiba.sorted_groups import first_in_group, last_in_group

__all__ = ["RISK_COLUMNS", "bounds", "calendar_boundaries", "split_calendar", "split_units"]

RISK_COLUMNS = ("admission", "patient", "hospital", "department", "region", "ward", "start", "end")
_FAR = timedelta(days=365 * 400)


def _utc(value: datetime) -> pl.Expr:
    return pl.lit(value).dt.convert_time_zone("UTC").dt.cast_time_unit("us")


def bounds(
    windows: pl.DataFrame,
    persons: pl.DataFrame,
    deaths: pl.DataFrame,
    rule: InfectionRule,
    *,
    cutoff: datetime,
    period: tuple[datetime, datetime],
    timezone: str,
) -> pl.DataFrame:
    """Per admission: ``risk_from`` and ``risk_until`` before any episode stops it."""
    framed = windows.join(persons, on="patient", how="left").join(
        deaths.select("patient", "died_at"), on="patient", how="left"
    )
    birthday = pl.col("birth_date").dt.offset_by(f"{rule.min_age_years}y").cast(pl.Datetime("us"))
    eligible = birthday.dt.replace_time_zone(timezone, non_existent="null", ambiguous="earliest").dt.convert_time_zone(
        "UTC"
    )
    start = pl.max_horizontal("ws", eligible, _utc(period[0]))
    until = pl.min_horizontal("risk_to", "died_at", _utc(cutoff), _utc(period[1]))
    return framed.select("admission", "patient", risk_from=start, risk_until=until)


def split_units(intervals: pl.DataFrame, segs: pl.DataFrame, lag: timedelta) -> pl.DataFrame:
    """Cut ``[start, end)`` per admission where the unit ``lag`` earlier changes."""
    order = segs.sort("admission", "seg_start")
    first = first_in_group(["admission"])
    last = last_in_group(["admission"])
    shifted = order.with_columns(
        lo=pl.when(first).then(pl.col("seg_start") - pl.lit(_FAR)).otherwise(pl.col("seg_start") + pl.lit(lag)),
        hi=pl.when(last).then(pl.col("seg_end") + pl.lit(_FAR)).otherwise(pl.col("seg_end") + pl.lit(lag)),
    ).drop("patient")
    joined = intervals.join(shifted, on="admission")
    pieces = joined.with_columns(start=pl.max_horizontal("start", "lo"), end=pl.min_horizontal("end", "hi")).filter(
        pl.col("end") > pl.col("start")
    )
    return pieces.select(RISK_COLUMNS)


def calendar_boundaries(first: datetime, last: datetime, timezone: str) -> np.ndarray:
    """Epoch microseconds of every local midnight starting an ISO week or a month in [first, last]."""
    days = pl.date_range(first.date() - timedelta(days=1), last.date() + timedelta(days=1), "1d", eager=True)
    cuts = days.filter((days.dt.weekday() == 1) | (days.dt.day() == 1))
    local = cuts.cast(pl.Datetime("us")).dt.replace_time_zone(timezone, non_existent="null", ambiguous="earliest")
    return local.dt.epoch("us").drop_nulls().to_numpy()


def _instants(epoch_us: np.ndarray) -> pl.Series:
    return pl.Series(epoch_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def split_calendar(pieces: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """Cut pieces at local week and month starts and label them (``calendar_labels`` of the start).

    Vectorised with ``searchsorted`` over all cuts. Between two consecutive cuts there is no week or
    month change, so the labels are computed once per calendar interval (a few hundred) rather than
    once per piece: time-zone conversion is the costly part of labelling.
    """
    if pieces.height == 0:
        return pieces.with_columns(*calendar_labels("start", timezone))
    lo_t, hi_t = pieces["start"].min(), pieces["end"].max()
    assert isinstance(lo_t, datetime) and isinstance(hi_t, datetime)
    cuts = calendar_boundaries(lo_t, hi_t, timezone)
    edges = np.concatenate(([np.iinfo(np.int64).min], cuts, [np.iinfo(np.int64).max]))
    s = pieces["start"].dt.epoch("us").to_numpy()
    e = pieces["end"].dt.epoch("us").to_numpy()
    first = np.searchsorted(edges, s, side="right") - 1
    count = np.searchsorted(edges, e, side="left") - first
    rows = np.repeat(np.arange(pieces.height), count)
    offsets = np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
    k = first[rows] + offsets
    new_s = np.maximum(s[rows], edges[k])
    new_e = np.minimum(e[rows], edges[k + 1])
    used, interval = np.unique(k, return_inverse=True)
    representative = np.empty(used.size, dtype=np.int64)
    representative[interval] = new_s
    labels = pl.DataFrame({"start": _instants(representative)}).select(*calendar_labels("start", timezone))
    cut = pieces[rows].with_columns(start=_instants(new_s), end=_instants(new_e))
    return cut.with_columns(labels[interval].get_columns())
