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
from numpy.typing import NDArray

from bindeled.surveillance.haiba._kernels import split_at_segments
from bindeled.surveillance.haiba.admissions import instants
from bindeled.surveillance.haiba.definition import InfectionRule
from bindeled.surveillance.haiba.episodes import calendar_labels

__all__ = ["RISK_COLUMNS", "bounds", "calendar_boundaries", "risk_pieces"]

RISK_COLUMNS = ("admission", "patient", "hospital", "department", "region", "ward", "start", "end")


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


def calendar_boundaries(first: datetime, last: datetime, timezone: str) -> np.ndarray:
    """Epoch microseconds of every local midnight starting an ISO week or a month in [first, last]."""
    days = pl.date_range(first.date() - timedelta(days=1), last.date() + timedelta(days=1), "1d", eager=True)
    cuts = days.filter((days.dt.weekday() == 1) | (days.dt.day() == 1))
    local = cuts.cast(pl.Datetime("us")).dt.replace_time_zone(timezone, non_existent="null", ambiguous="earliest")
    return local.dt.epoch("us").drop_nulls().to_numpy()


def _offsets(segs: pl.DataFrame, admissions: pl.Series) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows ``[lo, hi)`` of each admission's segments (``segs`` sorted by admission)."""
    keys = segs["admission"].to_numpy()
    wanted = admissions.to_numpy()
    return np.searchsorted(keys, wanted, side="left"), np.searchsorted(keys, wanted, side="right")


def _split_calendar(
    start: NDArray[np.int64], end: NDArray[np.int64], timezone: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], pl.DataFrame]:
    """Cut ``[start, end)`` at local week and month starts: (piece row, start, end, calendar interval,
    labels per calendar interval).

    Vectorised with ``searchsorted`` over all cuts. Between two consecutive cuts there is no week or
    month change, so the labels are computed once per calendar interval (a few hundred) rather than
    once per piece: time-zone conversion is the costly part of labelling.
    """
    if start.size == 0:
        empty = np.empty(0, np.int64)
        labels = pl.DataFrame({"start": instants(empty)}).select(*calendar_labels("start", timezone))
        return empty, empty, empty, empty, labels
    first_t, last_t = instants(start[[start.argmin()]]).item(), instants(end[[end.argmax()]]).item()
    cuts = calendar_boundaries(first_t, last_t, timezone)
    edges = np.concatenate(([np.iinfo(np.int64).min], cuts, [np.iinfo(np.int64).max]))
    first = np.searchsorted(edges, start, side="right") - 1
    count = np.searchsorted(edges, end, side="left") - first
    rows = np.repeat(np.arange(start.size), count)
    offsets = np.arange(rows.size) - np.repeat(np.cumsum(count) - count, count)
    k = first[rows] + offsets
    new_s = np.maximum(start[rows], edges[k])
    new_e = np.minimum(end[rows], edges[k + 1])
    present = np.bincount(k) > 0  # k counts calendar intervals: a few hundred, so no sort is needed
    interval = (np.cumsum(present) - 1)[k]
    representative = np.empty(int(present.sum()), dtype=np.int64)
    representative[interval] = new_s
    labels = pl.DataFrame({"start": instants(representative)}).select(*calendar_labels("start", timezone))
    return rows, new_s, new_e, interval, labels


def risk_pieces(
    intervals: pl.DataFrame, segs: pl.DataFrame, lag: timedelta, timezone: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cut each admission's ``[start, end)`` where the unit ``lag`` earlier changes, then at local week
    and month starts; label the pieces with their unit and ``calendar_labels``.

    ``segs`` must be sorted by (admission, seg_start), as :func:`segments` returns them. The cuts
    work on row numbers and epoch microseconds (``split_at_segments``); unit and patient columns are
    gathered once, for the final pieces, which come out sorted by (admission, start). Also returns
    the risk time summed per unit and calendar interval (``risk_us`` with the unit and label
    columns), from which every rate level sums exactly what it would from the pieces.
    """
    intervals = intervals.sort("admission")
    lo, hi = _offsets(segs, intervals["admission"])
    unit_row, seg_row, start, end = split_at_segments(
        lo,
        hi,
        segs["seg_start"].dt.epoch("us").to_numpy(),
        segs["seg_end"].dt.epoch("us").to_numpy(),
        intervals["start"].dt.epoch("us").to_numpy(),
        intervals["end"].dt.epoch("us").to_numpy(),
        lag // timedelta(microseconds=1),
    )
    piece, start, end, interval, labels = _split_calendar(start, end, timezone)
    seg = seg_row[piece]
    owner = intervals.select("admission", "patient")[unit_row[piece]]
    unit_columns = segs.select("hospital", "department", "region", "ward")
    times = [instants(start).alias("start"), instants(end).alias("end")]
    pieces = pl.DataFrame([*owner.get_columns(), *unit_columns[seg].get_columns(), *times])
    pieces = pieces.with_columns(labels[interval].get_columns())
    sums = (
        pl.DataFrame({"unit": segs["unit"].to_numpy()[seg], "interval": interval, "seg": seg, "risk_us": end - start})
        .group_by("unit", "interval")
        .agg(pl.col("seg").first(), pl.col("risk_us").sum())
    )
    totals = pl.DataFrame(
        [
            *unit_columns[sums["seg"]].get_columns(),
            *labels[sums["interval"]].get_columns(),
            sums["risk_us"],
        ]
    )
    return pieces, totals
