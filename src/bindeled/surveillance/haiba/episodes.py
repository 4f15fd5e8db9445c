"""Positives → episodes, their class (HA, COHA, indeterminate, community) and their unit.

Episodes group *all* qualifying positives of a patient and infection type, community ones too, and
take the class of their first positive (DOMAIN.md 7, "Left open"). HAIBA's rule is anchored: a
positive starts a new episode only more than N days after the *first* positive of the current one
(7.5). That recursion has no closed window-function form, so :func:`number_episodes` peels one
episode per patient per pass; the number of passes is the largest episode count of any patient.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from bindeled.surveillance.haiba._kernels import locate
from bindeled.surveillance.haiba.definition import EpisodeRule, InfectionRule
from bindeled.surveillance.haiba.sorted_groups import cum_sum_in_group, shift_in_group

__all__ = ["attribute", "calendar_labels", "classify", "first_positives", "number_episodes"]

_ORDER = ("patient", "sampled_at", "sample_id")


def _anchored(pos: pl.DataFrame, days: int) -> pl.DataFrame:
    remaining = pos.with_columns(episode=pl.lit(0, dtype=pl.Int64))
    done: list[pl.DataFrame] = []
    number = 0
    while remaining.height:
        number += 1
        anchor = pl.col("sampled_at").min().over("patient")
        inside = pl.col("sampled_at") <= anchor + pl.lit(timedelta(days=days))
        remaining = remaining.with_columns(inside=inside)
        done.append(remaining.filter(pl.col("inside")).with_columns(episode=pl.lit(number, dtype=pl.Int64)))
        remaining = remaining.filter(~pl.col("inside"))
    if not done:
        return remaining
    return pl.concat(done).drop("inside").sort(_ORDER)


def _restarting(pos: pl.DataFrame, days: int) -> pl.DataFrame:
    gap = pl.col("sampled_at") - shift_in_group(pl.col("sampled_at"), ["patient"])
    new = gap.is_null() | (gap > pl.lit(timedelta(days=days)))
    return pos.with_columns(episode=cum_sum_in_group(new.cast(pl.Int64), ["patient"]))


def number_episodes(pos: pl.DataFrame, rule: EpisodeRule) -> pl.DataFrame:
    """Add ``episode`` (1, 2, … per patient) to positives of one infection type."""
    pos = pos.sort(_ORDER)
    return _anchored(pos, rule.days) if rule.anchor == "first" else _restarting(pos, rule.days)


def first_positives(numbered: pl.DataFrame, rule: EpisodeRule) -> pl.DataFrame:
    """One row per episode: its first positive, the number of positives and ``recurrent``."""
    episodes = numbered.group_by("patient", "episode").agg(
        pl.col("infection").first(),
        pl.col("sample_id").first(),
        pl.col("sampled_at").first(),
        pl.col("organisms").first(),
        pl.len().alias("positives"),
    )
    episodes = episodes.sort(_ORDER)
    if rule.recurrent_within_days is None:
        return episodes.with_columns(recurrent=pl.lit(value=False))
    since = pl.col("sampled_at") - shift_in_group(pl.col("sampled_at"), ["patient"])
    recurrent = (since <= pl.lit(timedelta(days=rule.recurrent_within_days))).fill_null(value=False)
    return episodes.with_columns(recurrent=recurrent)


def _in_window(events: pl.DataFrame, windows: pl.DataFrame, rule: InfectionRule) -> pl.DataFrame:
    shift = timedelta(0) if rule.window_start.inclusive else timedelta(microseconds=1)
    keyed = windows.select("patient", "admission", (pl.col("ws") + pl.lit(shift)).alias("ws_key"), "we").sort("ws_key")
    joined = events.sort("sampled_at").join_asof(
        keyed, left_on="sampled_at", right_on="ws_key", by="patient", strategy="backward", check_sortedness=False
    )
    before_end = (
        pl.col("sampled_at") <= pl.col("we") if rule.window_end.inclusive else pl.col("sampled_at") < pl.col("we")
    )
    inside = pl.col("admission").is_not_null() & before_end
    return joined.with_columns(ha_admission=pl.when(inside).then(pl.col("admission"))).drop("admission", "ws_key", "we")


def _community_onset(events: pl.DataFrame, windows: pl.DataFrame, rule: InfectionRule) -> pl.DataFrame:
    """COHA / indeterminate for events outside every window: reference discharge and its distance."""
    adm = (
        windows.sort("patient", "start")
        .with_columns(
            prev_admission=shift_in_group(pl.col("admission"), ["patient"]),
            prev_end=shift_in_group(pl.col("end"), ["patient"]),
        )
        .select("patient", "admission", "start", "end", "ws", "prev_admission", "prev_end")
        .sort("start")
    )
    joined = events.sort("sampled_at").join_asof(
        adm, left_on="sampled_at", right_on="start", by="patient", strategy="backward", check_sortedness=False
    )
    early = pl.col("sampled_at") < pl.col("ws")
    ref_admission = pl.when(early).then(pl.col("prev_admission")).otherwise(pl.col("admission"))
    ref_end = pl.when(early).then(pl.col("prev_end")).otherwise(pl.col("end"))
    followup = rule.community_onset_followup or timedelta(0)
    lookback = rule.readmission_lookback or timedelta(0)
    coha = (
        pl.when(early)
        .then(pl.col("start") - pl.col("prev_end") <= pl.lit(lookback))
        .otherwise(pl.col("sampled_at") - pl.col("end") <= pl.lit(followup))
    )
    never = pl.lit(value=False)
    is_coha = coha.fill_null(value=False) if rule.community_onset_followup is not None else never
    is_late = never
    if rule.indeterminate_until is not None:
        is_late = (pl.col("sampled_at") - ref_end <= pl.lit(rule.indeterminate_until)).fill_null(value=False)
    klass = (
        pl.when(pl.col("ha_admission").is_not_null())
        .then(pl.lit("HA"))
        .when(is_coha)
        .then(pl.lit("COHA"))
        .when(is_late)
        .then(pl.lit("indeterminate"))
    )
    out = joined.with_columns(
        ref_admission=ref_admission, ref_end=ref_end, **{"class": klass.otherwise(pl.lit("community"))}
    )
    return out.drop("admission", "start", "end", "ws", "prev_admission", "prev_end")


def classify(events: pl.DataFrame, windows: pl.DataFrame, rule: InfectionRule) -> pl.DataFrame:
    """Add ``class`` and ``admission`` (the admission the event is attributed to, if any)."""
    located = _in_window(events, windows, rule)
    if rule.community_onset_followup is None and rule.indeterminate_until is None:
        klass = pl.when(pl.col("ha_admission").is_not_null()).then(pl.lit("HA")).otherwise(pl.lit("community"))
        located = located.with_columns(klass.alias("class"), ref_admission=pl.lit(None, dtype=pl.Int64))
        located = located.with_columns(ref_end=pl.lit(None, dtype=located.schema["sampled_at"]))
    else:
        located = _community_onset(located, windows, rule)
    admission = (
        pl.when(pl.col("class") == "HA")
        .then(pl.col("ha_admission"))
        .when(pl.col("class").is_in(["COHA", "indeterminate"]))
        .then(pl.col("ref_admission"))
    )
    return located.with_columns(admission=admission).drop("ha_admission", "ref_admission", "ref_end")


def attribute(events: pl.DataFrame, admissions: pl.DataFrame, segs: pl.DataFrame, lag: timedelta) -> pl.DataFrame:
    """Add the unit: HA where the patient was ``lag`` before sampling (held inside the admission),
    COHA/indeterminate at the end of the reference admission.

    ``segs`` must be sorted by (admission, seg_start); each event's segment is found by a binary
    search among its admission's segments (``locate``) and its unit gathered by row number.
    """
    bounds = admissions.select("admission", pl.col("start").alias("a_start"), pl.col("end").alias("a_end"))
    withb = events.join(bounds, on="admission", how="left", maintain_order="left")
    at = (
        pl.when(pl.col("class") == "HA")
        .then(pl.min_horizontal(pl.max_horizontal(pl.col("sampled_at") - pl.lit(lag), "a_start"), "a_end"))
        .otherwise(pl.col("a_end"))
    )
    at_us = withb.select(at.dt.epoch("us").fill_null(np.iinfo(np.int64).min)).to_series().to_numpy()
    keys = segs["admission"].to_numpy()
    wanted = withb["admission"].fill_null(-1).to_numpy()
    lo, hi = np.searchsorted(keys, wanted, side="left"), np.searchsorted(keys, wanted, side="right")
    row = locate(lo, hi, segs["seg_start"].dt.epoch("us").to_numpy(), at_us)
    index = pl.Series(row).set(pl.Series(row < 0), None)
    units = segs.select(pl.col("hospital", "department", "region", "ward").gather(index))
    return withb.drop("a_start", "a_end").with_columns(units.get_columns())


def calendar_labels(time: str, timezone: str) -> list[pl.Expr]:
    """ISO week and calendar month of an instant, in local time."""
    local = pl.col(time).dt.convert_time_zone(timezone)
    return [
        local.dt.iso_year().alias("iso_year"),
        local.dt.week().cast(pl.Int8).alias("iso_week"),
        local.dt.year().alias("year"),
        local.dt.month().cast(pl.Int8).alias("month"),
    ]
