"""Risk time: where it starts and stops, and splits that add up to the microsecond (DOMAIN.md 7.9)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.surveillance.haiba import definition
from bindeled.surveillance.haiba.risktime import calendar_boundaries
from tests.surveillance.haiba.cases import CUTOFF, T0, Case, D, H, M, random_case

CPH = ZoneInfo("Europe/Copenhagen")


def _risk(case: Case, infection: str = "bacteraemia", **kw) -> pl.DataFrame:
    return case.run(**kw).risk.filter(pl.col("infection") == infection)


def _total(risk: pl.DataFrame) -> timedelta:
    return timedelta(microseconds=int(risk["risk_us"].sum()))


def test_risk_time_is_the_window(case: Case) -> None:
    case.contact(T0, T0 + 10 * D + 7 * M)
    assert _total(_risk(case)) == 10 * D + 7 * M


def test_short_admission_has_its_48_hours_after_discharge(case: Case) -> None:
    case.contact(T0, T0 + 30 * H)
    assert _total(_risk(case)) == 30 * H


def test_risk_ends_at_the_first_ha_episode(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 5 * D + 13 * M, "Escherichia coli")
    assert _total(_risk(case)) == 3 * D + 13 * M
    assert _total(_risk(case, "uti")) == 10 * D


def test_risk_ends_at_death(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).death(T0 + 4 * D)
    assert _total(_risk(case)) == 2 * D


def test_risk_ends_at_the_cutoff_for_an_open_contact(case: Case) -> None:
    case.contact(T0, None)
    assert _total(_risk(case, as_of=T0 + 5 * D)) == 3 * D


def test_period_limits_risk_time(case: Case) -> None:
    case.contact(T0, T0 + 10 * D)
    assert _total(_risk(case, period=(T0 + 3 * D, T0 + 4 * D))) == D


def test_uti_risk_starts_at_the_first_birthday(case: Case) -> None:
    case.person(date(2023, 3, 10)).contact(T0, T0 + 10 * D)  # birthday 2024-03-10 00:00 local = 03-09 23:00 UTC
    assert _total(_risk(case, "uti")) == datetime(2024, 3, 16, 10, tzinfo=UTC) - datetime(2024, 3, 9, 23, tzinfo=UTC)
    assert _total(_risk(case, "bacteraemia")) == 10 * D


def test_readmission_within_48_hours_keeps_both_windows(case: Case) -> None:
    # With hour offsets the windows [s+48h, e+48h] of disjoint admissions never overlap.
    case.contact(T0, T0 + 5 * D).contact(T0 + 6 * D, T0 + 9 * D)
    assert _total(_risk(case)) == 5 * D + 3 * D


def test_calendar_windows_are_cut_at_the_next_window(case: Case) -> None:
    # ECDC: onset from day 3 (local midnight), 48 h after discharge. Discharged 22:00 local and readmitted
    # 23:00 the same day, the second window opens 25 h later, inside the first: the later one takes over.
    first_end = datetime(2024, 3, 9, 21, tzinfo=UTC)
    case.contact(T0, first_end).contact(first_end + H, first_end + H + 5 * D)
    risk = _risk(case, definition=definition("ecdc"))
    ws_1 = datetime(2024, 3, 5, 23, tzinfo=UTC)
    assert _total(risk) == (first_end + H + 5 * D + 48 * H) - ws_1
    assert risk.filter(pl.col("admission") == 1)["end"].max() == datetime(2024, 3, 10, 23, tzinfo=UTC)


def test_split_at_ward_change_shifted_by_48_hours(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).stay(T0, T0 + 4 * D, "W1").stay(T0 + 4 * D, T0 + 10 * D, "W2")
    risk = _risk(case).group_by("ward").agg(pl.col("risk_us").sum()).sort("ward")
    assert risk["risk_us"].to_list() == [4 * D // timedelta(microseconds=1), 6 * D // timedelta(microseconds=1)]


def test_split_at_iso_week_and_month_in_local_time(case: Case) -> None:
    start = datetime(2024, 2, 20, 12, tzinfo=UTC)
    case.contact(start, start + 20 * D)
    risk = _risk(case).sort("start")
    local_starts = [t.astimezone(CPH) for t in risk["start"].to_list()[1:]]
    assert all((t.hour, t.minute) == (0, 0) and (t.weekday() == 0 or t.day == 1) for t in local_starts)
    assert risk.select("year", "month").unique().height == 2
    assert risk.select("iso_year", "iso_week").unique().height == 4


def test_calendar_boundaries_cover_dst() -> None:
    cuts = calendar_boundaries(datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC), "Europe/Copenhagen")
    local = [datetime.fromtimestamp(int(c) / 1e6, tz=CPH) for c in cuts]
    assert datetime(2024, 4, 1, tzinfo=CPH) in local  # a Monday and a month start at once, counted once
    assert len(local) == len(set(local))


def _expected_total(case: Case) -> timedelta:
    """An independent, plain-Python risk total: merged contacts, windows, next window, death, cutoff."""
    total = timedelta(0)
    deaths = {d["patient"]: d["died_at"] for d in case.deaths}
    for patient in {c["patient"] for c in case.contacts}:
        merged: list[list[datetime]] = []
        for c in sorted((c for c in case.contacts if c["patient"] == patient), key=lambda c: c["start"]):
            if merged and c["start"] <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], c["end"])
            else:
                merged.append([c["start"], c["end"]])
        for i, (s, e) in enumerate(merged):
            stop = min(e + 48 * H, deaths.get(patient, CUTOFF), CUTOFF)
            if i + 1 < len(merged):
                stop = min(stop, merged[i + 1][0] + 48 * H)
            total += max(timedelta(0), stop - (s + 48 * H))
    return total


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32))
def test_split_risk_time_sums_to_the_admission_risk_time(seed: int) -> None:
    case = random_case(random.Random(seed))
    case.lab.clear()  # no episodes: risk ends only at the window, readmission, death or cut-off
    risk = _risk(case)
    assert _total(risk) == _expected_total(case)
    assert (risk["end"] > risk["start"]).all()
    by_admission = risk.sort("admission", "start")
    overlaps = by_admission.filter(pl.col("start") < pl.col("end").shift(1).over("admission"))
    assert overlaps.height == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32))
def test_pieces_respect_weeks_months_and_add_up(seed: int) -> None:
    case = random_case(random.Random(seed))
    result = case.run()
    for piece in result.risk.iter_rows(named=True):
        a, b = piece["start"].astimezone(CPH), (piece["end"] - timedelta(microseconds=1)).astimezone(CPH)
        assert a.isocalendar()[:2] == b.isocalendar()[:2] == (piece["iso_year"], piece["iso_week"])
        assert (a.year, a.month) == (b.year, b.month) == (piece["year"], piece["month"])
        assert piece["risk_us"] == (piece["end"] - piece["start"]) // timedelta(microseconds=1)
    for level in ("ward", "week", "month", "department", "national"):
        assert (
            result.rates(level)
            .group_by("infection")
            .agg(pl.col("risk_us").sum())
            .sort("infection")
            .equals(result.risk.group_by("infection").agg(pl.col("risk_us").sum()).sort("infection"))
        )


def test_death_record_corrected_later(case: Case) -> None:
    case.contact(T0, T0 + 10 * D)
    case.deaths.append({"patient": "p1", "died_at": T0 + 4 * D, "received_at": T0 + 4 * D})
    case.deaths.append({"patient": "p1", "died_at": T0 + 6 * D, "received_at": T0 + 7 * D})
    case.deaths.append({"patient": "p1", "died_at": T0 + 5 * D, "received_at": T0 + 7 * D})
    assert _total(_risk(case, as_of=T0 + 6 * D)) == 2 * D
    assert _total(_risk(case)) == 3 * D  # two records in the latest version: the earlier death counts
