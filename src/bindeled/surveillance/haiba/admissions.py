"""Contacts → admissions, the unit timeline inside each admission, and the HAIBA windows.

An *admission* (HAIBA's contact period) is a run of contacts that overlap or touch (gap at most
``merge_gap``; DOMAIN.md 7.1). Inside it the *segments* partition the admission's time so that each
instant has exactly one responsible department (the most recently started contact covering it) and
at most one ward (the stay covering it): risk time split on segments can neither double-count nor
lose a minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from bindeled.errors import Unprocessable
from bindeled.surveillance.haiba._kernels import timeline
from bindeled.surveillance.haiba.definition import Bound, InfectionRule
from bindeled.surveillance.haiba.sorted_groups import cum_max_in_group, shift_in_group

__all__ = ["edge", "instants", "merge_contacts", "segments", "windows"]

_UNIT = ("contact_id", "hospital", "department", "region")


def instants(epoch_us: NDArray[np.int64]) -> pl.Series:
    """Epoch microseconds as UTC instants."""
    return pl.Series(epoch_us).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _close_open_ends(frame: pl.DataFrame, open_end: datetime, name: str) -> pl.DataFrame:
    frame = frame.with_columns(pl.col("end").fill_null(pl.lit(open_end).dt.convert_time_zone("UTC")))
    frame = frame.filter(pl.col("start") <= pl.lit(open_end).dt.convert_time_zone("UTC"))
    if frame.select((pl.col("end") < pl.col("start")).any()).item():
        raise Unprocessable(f"{name} with end before start", location=(f"{name}.end",))
    return frame


def merge_contacts(contacts: pl.DataFrame, *, gap: timedelta, open_end: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Number admissions; return ``(contacts with admission, admissions)``.

    Open contacts end at ``open_end`` (the data cut-off). Admission numbers follow the sort order
    (patient, start, end), so they do not depend on the input row order (contacts tied on all
    three always fall in the same admission).
    """
    contacts = _close_open_ends(contacts, open_end, "contacts").sort("patient", "start", "end")
    contacts = cum_max_in_group(contacts, "end", ["patient"], "_reach")
    reach = shift_in_group(pl.col("_reach"), ["patient"])
    new = reach.is_null() | (pl.col("start") > reach + pl.lit(gap))
    contacts = contacts.with_columns(admission=new.cum_sum().cast(pl.Int64)).drop("_reach")
    admissions = contacts.group_by("admission").agg(
        pl.col("patient").first(), pl.col("start").min(), pl.col("end").max()
    )
    return contacts, admissions.sort("admission")


def _clip_stays(stays: pl.DataFrame, admissions: pl.DataFrame, open_end: datetime) -> pl.DataFrame:
    """Stays cut to each admission they overlap (touching counts), sorted by (admission, start, stay_id)."""
    stays = _close_open_ends(stays, open_end, "stays").with_row_index("_row")
    joined = stays.select("_row", "patient", "start", "end").join(
        admissions.select("admission", "patient", start_adm="start", end_adm="end"), on="patient"
    )
    joined = joined.filter((pl.col("start") <= pl.col("end_adm")) & (pl.col("end") >= pl.col("start_adm")))
    clipped = joined.select(
        "admission",
        "_row",
        pl.max_horizontal("start", "start_adm").alias("start"),
        pl.min_horizontal("end", "end_adm").alias("end"),
    )
    named = clipped.with_columns(stays.select("stay_id", "ward")[clipped["_row"]].get_columns())
    return named.drop("_row").sort("admission", "start", "stay_id")


def _offsets(keys: pl.Series, admissions: pl.Series) -> NDArray[np.int64]:
    """Each admission's first row in ``keys`` (sorted), and the end."""
    bounds = np.searchsorted(keys.to_numpy(), admissions.to_numpy(), side="left")
    return np.append(bounds, keys.len()).astype(np.int64)


def _epoch(column: pl.Series) -> NDArray[np.int64]:
    return column.dt.epoch("us").to_numpy()


def segments(
    contacts: pl.DataFrame, admissions: pl.DataFrame, stays: pl.DataFrame, *, open_end: datetime
) -> pl.DataFrame:
    """The admission's time cut wherever a contact or stay starts or ends, with its unit.

    Columns: admission, patient, seg_start, seg_end, contact_id, hospital, department, region, ward.
    The department is the most recently started contact covering the segment (or, in a merged gap,
    the most recently started one); the ward is the covering stay, or null when none is recorded.
    Ties on the start go to the greater contact or stay id. One sweep per admission (``timeline``).
    """
    admissions = admissions.sort("admission")
    stays = _clip_stays(stays, admissions, open_end)
    contacts = contacts.sort("admission", "start", "contact_id")
    adm, seg_start, seg_end, dept, ward = timeline(
        _offsets(contacts["admission"], admissions["admission"]),
        _epoch(contacts["start"]),
        _epoch(contacts["end"]),
        _offsets(stays["admission"], admissions["admission"]),
        _epoch(stays["start"]),
        _epoch(stays["end"]),
    )
    no_stay = ward < 0
    wards = stays["ward"].gather(pl.Series(ward).set(pl.Series(no_stay), None))
    return pl.DataFrame(
        [
            admissions["admission"].gather(adm),
            admissions["patient"].gather(adm),
            instants(seg_start).alias("seg_start"),
            instants(seg_end).alias("seg_end"),
            *contacts.select(*_UNIT)[dept].get_columns(),
            wards.alias("ward"),
            pl.Series("unit", _unit_codes(contacts, stays, dept, ward, no_stay)),
        ]
    )


def _codes(frame: pl.DataFrame) -> NDArray[np.int64]:
    """A dense integer per distinct row of ``frame``'s string columns (categorical codes, combined)."""
    code = np.zeros(frame.height, np.int64)
    for column in frame.columns:
        part = frame[column].cast(pl.Categorical).to_physical().fill_null(-1).cast(pl.Int64).to_numpy() + 1
        code = np.unique(code * (int(part.max(initial=0)) + 1) + part, return_inverse=True)[1].astype(np.int64)
    return code


def _unit_codes(
    contacts: pl.DataFrame,
    stays: pl.DataFrame,
    dept: NDArray[np.int64],
    ward: NDArray[np.int64],
    no_stay: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """An integer per distinct (hospital, department, region, ward), so that risk time can be summed
    per unit on integers instead of on four strings."""
    department = _codes(contacts.select("hospital", "department", "region"))[dept]
    wards = _codes(stays.select("ward"))
    ward_code = np.where(no_stay, 0, wards[np.maximum(ward, 0)] + 1) if wards.size else np.zeros(ward.size, np.int64)
    return department * (int(wards.max(initial=0)) + 2) + ward_code


def edge(instant: pl.Expr, bound: Bound, timezone: str) -> pl.Expr:
    """``instant`` moved by ``bound``: elapsed time, or to a local midnight ``calendar_days`` later."""
    if bound.calendar_days is None:
        return instant + pl.lit(bound.elapsed)
    day = instant.dt.convert_time_zone(timezone).dt.date() + pl.duration(days=bound.calendar_days)
    midnight = day.cast(pl.Datetime("us")).dt.replace_time_zone(timezone, non_existent="null", ambiguous="earliest")
    return midnight.dt.convert_time_zone("UTC") + pl.lit(bound.elapsed)


def windows(admissions: pl.DataFrame, rule: InfectionRule, timezone: str) -> pl.DataFrame:
    """Per admission: ``ws``/``we`` (the window) and ``risk_to`` (``we`` cut at the next window's start).

    When a readmission's window opens before the previous one closes, the later admission takes over
    from its window start on (DOMAIN.md 7, "Left open").
    """
    framed = admissions.sort("patient", "start", "admission").with_columns(
        ws=edge(pl.col("start"), rule.window_start, timezone), we=edge(pl.col("end"), rule.window_end, timezone)
    )
    return framed.with_columns(
        risk_to=pl.min_horizontal("we", shift_in_group(pl.col("ws"), ["patient"], -1)),
    )
