"""Merging contacts into admissions (DOMAIN.md 7.1) and the unit timeline inside them."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from bindeled.surveillance.haiba import definition
from bindeled.surveillance.haiba.admissions import merge_contacts, segments
from tests.surveillance.haiba.cases import CUTOFF, T0, Case, D, H, M


def _merge(case: Case, gap: timedelta = timedelta(0)) -> pl.DataFrame:
    contacts = case.data().as_of(CUTOFF).contacts.collect()
    return merge_contacts(contacts, gap=gap, open_end=CUTOFF)[1]


def test_touching_contacts_merge_and_a_minute_apart_do_not(case: Case) -> None:
    case.contact(T0, T0 + D).contact(T0 + D, T0 + 2 * D)
    case.contact(T0, T0 + D, patient="p2").contact(T0 + D + M, T0 + 2 * D, patient="p2")
    admissions = _merge(case).sort("patient")
    assert admissions["patient"].to_list() == ["p1", "p2", "p2"]
    assert admissions.row(0, named=True)["end"] == T0 + 2 * D


def test_overlapping_and_nested_contacts_merge(case: Case) -> None:
    case.contact(T0, T0 + 5 * D).contact(T0 + H, T0 + 2 * D).contact(T0 + 4 * D, T0 + 9 * D)
    admissions = _merge(case)
    assert admissions.height == 1
    assert (admissions["start"][0], admissions["end"][0]) == (T0, T0 + 9 * D)


def test_merge_gap_setting(case: Case) -> None:
    case.contact(T0, T0 + D).contact(T0 + D + 3 * H, T0 + 2 * D)
    assert _merge(case).height == 2
    assert _merge(case, gap=timedelta(hours=3)).height == 1


def test_open_contact_runs_to_the_cutoff(case: Case) -> None:
    case.contact(T0, None)
    assert _merge(case)["end"].to_list() == [CUTOFF]


def test_merged_contacts_share_one_window(case: Case) -> None:
    # Each contact alone is shorter than 48 h; merged, the sample at +60 h is inside the window.
    case.contact(T0, T0 + 30 * H).contact(T0 + 30 * H, T0 + 3 * D).sample(T0 + 60 * H, "Escherichia coli")
    episodes = case.run().episodes
    assert episodes["class"].to_list() == ["HA"]
    assert episodes["department"].to_list() == ["dept-A"]


def test_nested_contact_is_responsible_only_while_it_lasts(case: Case) -> None:
    case.contact(T0, T0 + 10 * D, department="medicine").contact(T0 + 2 * D, T0 + 3 * D, department="surgery")
    case.stay(T0, T0 + 4 * D, "W1")
    data = case.data().as_of(CUTOFF)
    contacts, admissions = merge_contacts(data.contacts.collect(), gap=timedelta(0), open_end=CUTOFF)
    segs = segments(contacts, admissions, data.stays.collect(), open_end=CUTOFF)
    rows = segs.select("seg_start", "seg_end", "department", "ward").rows()
    assert rows == [
        (T0, T0 + 2 * D, "medicine", "W1"),
        (T0 + 2 * D, T0 + 3 * D, "surgery", "W1"),
        (T0 + 3 * D, T0 + 4 * D, "medicine", "W1"),
        (T0 + 4 * D, T0 + 10 * D, "medicine", None),
    ]


def test_default_merge_gap_is_zero() -> None:
    assert definition().merge_gap == timedelta(0)
