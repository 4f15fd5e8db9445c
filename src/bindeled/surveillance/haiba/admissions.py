"""Contacts → admissions, the unit timeline inside each admission, and the HAIBA windows.

An *admission* (HAIBA's contact period) is a run of contacts that overlap or touch (gap at most
``merge_gap``; DOMAIN.md 7.1). Inside it the *segments* partition the admission's time so that each
instant has exactly one responsible department (the most recently started contact covering it) and
at most one ward (the stay covering it): risk time split on segments can neither double-count nor
lose a minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from bindeled.errors import Unprocessable
from bindeled.surveillance.haiba.definition import Bound, InfectionRule
from bindeled.surveillance.haiba.sorted_groups import cum_max_in_group, shift_in_group

__all__ = ["edge", "merge_contacts", "segments", "windows"]

_UNIT = ("contact_id", "hospital", "department", "region")


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
    stays = _close_open_ends(stays, open_end, "stays")
    joined = stays.join(admissions, on="patient", suffix="_adm")
    joined = joined.filter((pl.col("start") <= pl.col("end_adm")) & (pl.col("end") >= pl.col("start_adm")))
    return joined.select(
        "admission",
        "stay_id",
        "ward",
        pl.max_horizontal("start", "start_adm").alias("start"),
        pl.min_horizontal("end", "end_adm").alias("end"),
    )


def _elementary(contacts: pl.DataFrame, stays: pl.DataFrame, admissions: pl.DataFrame) -> pl.DataFrame:
    points = pl.concat(
        [frame.select("admission", pl.col(col).alias("t")) for frame in (contacts, stays) for col in ("start", "end")]
    )
    points = points.sort("admission", "t")
    same = pl.col("admission") == pl.col("admission").shift(1)
    points = points.filter(~(same & (pl.col("t") == pl.col("t").shift(1))).fill_null(value=False))
    next_same = pl.col("admission") == pl.col("admission").shift(-1)
    alone = ~same.fill_null(value=False) & ~next_same.fill_null(value=False)
    points = points.with_columns(seg_end=pl.when(next_same).then(pl.col("t").shift(-1))).filter(
        pl.col("seg_end").is_not_null() | alone
    )
    seg = points.select("admission", pl.col("t").alias("seg_start"), pl.col("seg_end").fill_null(pl.col("t")))
    return seg.join(admissions.select("admission", "patient"), on="admission")


def _pick(candidates: pl.DataFrame, start: str, tie: str) -> pl.DataFrame:
    ordered = candidates.sort(
        ["admission", "seg_start", "covers", start, tie], descending=[False, False, True, True, True]
    )
    return ordered.unique(subset=["admission", "seg_start"], keep="first", maintain_order=True)


def segments(
    contacts: pl.DataFrame, admissions: pl.DataFrame, stays: pl.DataFrame, *, open_end: datetime
) -> pl.DataFrame:
    """The admission's time cut wherever a contact or stay starts or ends, with its unit.

    Columns: admission, patient, seg_start, seg_end, contact_id, hospital, department, region, ward.
    The department is the most recently started contact covering the segment (or, in a merged gap,
    the most recently started one); the ward is the covering stay, or null when none is recorded.
    """
    stays = _clip_stays(stays, admissions, open_end)
    seg = _elementary(contacts, stays, admissions)
    dept = seg.join(contacts.select("admission", *_UNIT, "start", "end"), on="admission")
    dept = dept.filter(pl.col("start") <= pl.col("seg_start")).with_columns(covers=pl.col("end") >= pl.col("seg_end"))
    dept = _pick(dept, "start", "contact_id")
    ward = seg.join(stays, on="admission").filter(
        (pl.col("start") <= pl.col("seg_start")) & (pl.col("end") >= pl.col("seg_end"))
    )
    ward = _pick(ward.with_columns(covers=pl.lit(value=True)), "start", "stay_id").select(
        "admission", "seg_start", "ward"
    )
    out = dept.select("admission", "patient", "seg_start", "seg_end", *_UNIT).join(
        ward, on=["admission", "seg_start"], how="left"
    )
    return out.sort("admission", "seg_start")


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
