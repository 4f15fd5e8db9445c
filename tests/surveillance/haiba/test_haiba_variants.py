"""Danish, ECDC and NHSN definitions give their documented, different answers on crafted cases."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from bindeled.errors import InvalidRequest
from bindeled.surveillance.haiba import DEFINITIONS, definition
from tests.surveillance.haiba.cases import T0, Case, D, H

CONS = "Staphylococcus epidermidis"


def _run(case: Case, name: str, infection: str) -> pl.DataFrame:
    return case.run(definition=definition(name), infections=[infection]).episodes


def test_onset_hours_versus_calendar_days(case: Case) -> None:
    # Admitted Monday 23:00 local, sampled Wednesday 01:00 local: 26 h (HAIBA: no), day 3 (ECDC: yes), day 3 (NHSN: no).
    admitted = datetime(2024, 3, 4, 22, tzinfo=UTC)
    case.contact(admitted, admitted + 10 * D).sample(admitted + 26 * H, "Escherichia coli")
    classes = {name: _run(case, name, "bacteraemia")["class"].to_list() for name in ("haiba", "ecdc", "nhsn")}
    assert classes == {"haiba": ["community"], "ecdc": ["HA"], "nhsn": ["community"]}


def test_paired_commensals(case: Case) -> None:
    # Two CoNS cultures 30 h apart on consecutive days: never in HAIBA, one case in ECDC and NHSN.
    case.contact(T0, T0 + 10 * D).sample(T0 + 4 * D, CONS).sample(T0 + 4 * D + 30 * H, CONS)
    counts = {name: _run(case, name, "bacteraemia").height for name in ("haiba", "ecdc", "nhsn")}
    assert counts == {"haiba": 0, "ecdc": 1, "nhsn": 1}


def test_repeat_positives(case: Case) -> None:
    # Positives every 10 days for 40 days: HAIBA anchors on the first (2 episodes), NHSN restarts (1 event).
    case.contact(T0, T0 + 60 * D)
    for day in (3, 13, 23, 33, 43):
        case.sample(T0 + day * D, "Staphylococcus aureus")
    counts = {name: _run(case, name, "bacteraemia").height for name in ("haiba", "ecdc", "nhsn")}
    assert counts == {"haiba": 2, "ecdc": 2, "nhsn": 1}


def test_cdi_after_discharge_and_recurrence(case: Case) -> None:
    case.contact(T0, T0 + 5 * D)
    for day in (5 + 29, 5 + 29 + 20):  # 29 days after discharge, then 20 days later
        case.sample(T0 + day * D, "Clostridioides difficile", material="feces", analysis="pcr", toxigenic=True)
    haiba = _run(case, "haiba", "cdi").select("class", "recurrent").rows()
    nhsn = _run(case, "nhsn", "cdi").select("class", "recurrent").rows()
    ecdc = _run(case, "ecdc", "cdi").select("class", "recurrent").rows()
    assert haiba == [("COHA", False)]  # ≤ 30 days, one episode (56-day anchor)
    assert nhsn == [("community", False), ("community", True)]  # > 28 days; second is recurrent
    assert ecdc == [("indeterminate", False), ("indeterminate", True)]


def test_cdi_toxin_test_counts_only_in_ecdc_and_nhsn(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 4 * D, "Clostridioides difficile", material="feces", analysis="toxin")
    counts = {name: _run(case, name, "cdi").height for name in ("haiba", "ecdc", "nhsn")}
    assert counts == {"haiba": 0, "ecdc": 1, "nhsn": 1}


def test_uti_count_threshold(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 4 * D, "Escherichia coli", material="30001", cfu=5e4)
    counts = {name: _run(case, name, "uti").height for name in ("haiba", "ecdc", "nhsn")}
    assert counts == {"haiba": 1, "ecdc": 0, "nhsn": 0}


def test_version_is_recorded_on_every_output(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 4 * D, "Escherichia coli")
    for name in DEFINITIONS:
        result = case.run(definition=definition(name))
        assert result.version.startswith(f"{name.split('-')[0]}/")
        for frame in (result.episodes, result.risk, result.admissions, result.rates("month")):
            assert frame["definition"].unique().to_list() == [result.version]


def test_unknown_definition_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        definition("cdc-1988")


def test_unknown_infection_is_refused(case: Case) -> None:
    with pytest.raises(InvalidRequest):
        case.contact(T0, T0 + D).run(infections=["pneumonia"])
