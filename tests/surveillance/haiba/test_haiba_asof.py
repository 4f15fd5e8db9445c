"""As-of cut-offs: later data and corrections never change a run for an earlier cut-off (DOMAIN.md 7.10)."""

from __future__ import annotations

import random
from datetime import timedelta

import polars as pl
from polars.testing import assert_frame_equal

from bindeled.surveillance.haiba import LEVELS
from tests.surveillance.haiba.cases import CUTOFF, T0, Case, D, H, random_case

CUT = T0 + 20 * D


def _frames(case: Case, as_of=CUT) -> list[pl.DataFrame]:
    result = case.run(as_of=as_of)
    return [result.episodes, result.risk, *(result.rates(level) for level in LEVELS)]


def test_later_results_do_not_change_an_earlier_cutoff(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, "Escherichia coli")
    before = _frames(case)
    case.sample(T0 + 4 * D, "Klebsiella pneumoniae", received_at=CUT + H)  # sampled before, received after
    case.contact(T0 + 15 * D, T0 + 30 * D, received_at=CUT + D)
    for old, new in zip(before, _frames(case), strict=True):
        assert_frame_equal(old, new)
    assert case.run(as_of=CUTOFF).admissions.height == 2


def test_correction_supersedes_only_after_it_was_received(case: Case) -> None:
    case.contact(T0, T0 + 10 * D)
    case.sample(T0 + 3 * D, "Escherichia coli", sample_id="S1", received_at=T0 + 4 * D)
    case.sample(T0 + 3 * D, None, sample_id="S1", received_at=T0 + 25 * D)  # corrected to negative
    assert case.run(as_of=CUT).episodes.height == 1
    assert case.run(as_of=T0 + 26 * D).episodes.height == 0


def test_open_contact_closed_later(case: Case) -> None:
    case.contact(T0, None, contact_id="c", received_at=T0)
    case.contact(T0, T0 + 5 * D, contact_id="c", received_at=T0 + 6 * D)
    early = case.run(as_of=T0 + 4 * D).admissions["end"].to_list()
    late = case.run(as_of=CUT).admissions["end"].to_list()
    assert (early, late) == ([T0 + 4 * D], [T0 + 5 * D])


def test_death_known_only_after_cutoff(case: Case) -> None:
    case.contact(T0, T0 + 10 * D)
    case.deaths.append({"patient": "p1", "died_at": T0 + 5 * D, "received_at": CUT + D})
    risk = case.run(as_of=CUT, infections=["bacteraemia"]).risk["risk_us"].sum()
    assert risk == 10 * D // timedelta(microseconds=1)


def test_rerun_is_identical() -> None:
    case = random_case(random.Random(7), patients=8)
    for old, new in zip(_frames(case, CUTOFF), _frames(case, CUTOFF), strict=True):
        assert_frame_equal(old, new)
