"""The indicator record: suppression of small cells, medication data refused, CSV with marks."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.indicators import SUPPRESSION_THRESHOLD, IndicatorDefinition, indicator, to_csv

DEFINITION = IndicatorDefinition("test.share", "2", "A share", frozenset({"AuditEvent"}))
PERIOD = (date(2026, 11, 1), date(2026, 12, 1))


def test_a_large_cell_carries_its_counts_and_value() -> None:
    cell = indicator(DEFINITION, PERIOD, "municipality", "0461", "Odense Kommune", 30, 120)
    assert (cell.numerator, cell.denominator, cell.value, cell.suppressed) == (30, 120, 0.25, False)
    assert (cell.id, cell.definition_version, cell.period_start, cell.geography_level) == (
        "test.share",
        "2",
        date(2026, 11, 1),
        "municipality",
    )


@given(st.integers(1, SUPPRESSION_THRESHOLD - 1), st.integers(SUPPRESSION_THRESHOLD, 10_000))
def test_small_numerators_are_suppressed_and_marked(numerator: int, denominator: int) -> None:
    cell = indicator(DEFINITION, PERIOD, "region", "1083", "Region Syddanmark", numerator, denominator)
    assert cell.suppressed and cell.numerator is None and cell.value is None
    assert cell.denominator == denominator


def test_zero_is_shown_and_an_empty_denominator_has_no_value() -> None:
    zero = indicator(DEFINITION, PERIOD, "municipality", "0479", "Svendborg Kommune", 0, 50)
    assert (zero.numerator, zero.value, zero.suppressed) == (0, 0.0, False)
    empty = indicator(DEFINITION, PERIOD, "municipality", "0479", "Svendborg Kommune", 0, 0)
    assert empty.value is None and not empty.suppressed


def test_small_denominators_suppress_the_cell() -> None:
    cell = indicator(DEFINITION, PERIOD, "hospital", "x", "Ærø", 0, 3)
    assert cell.suppressed and cell.denominator is None and cell.value is None


@pytest.mark.parametrize(("numerator", "denominator"), [(-1, 5), (6, 5)])
def test_impossible_counts_are_refused(numerator: int, denominator: int) -> None:
    with pytest.raises(ValueError, match="numerator"):
        indicator(DEFINITION, PERIOD, "region", "1083", "Region Syddanmark", numerator, denominator)


def test_medication_data_never_enters_an_indicator() -> None:
    with pytest.raises(ValueError, match="medication"):
        IndicatorDefinition("bad", "1", "Prescriptions", frozenset({"MedicationRequest"}))


def test_csv_leaves_suppressed_numbers_empty_and_marks_them() -> None:
    cells = [
        indicator(DEFINITION, PERIOD, "municipality", "0461", "Odense Kommune", 30, 120),
        indicator(DEFINITION, PERIOD, "municipality", "0479", "Svendborg Kommune", 2, 120),
    ]
    rows = list(csv.DictReader(io.StringIO(to_csv(cells))))
    assert rows[0]["numerator"] == "30" and rows[0]["value"] == "0.2500" and rows[0]["suppressed"] == "false"
    assert rows[1]["numerator"] == "" and rows[1]["value"] == "" and rows[1]["suppressed"] == "true"
    assert rows[1]["denominator"] == "120" and rows[1]["geography_name"] == "Svendborg Kommune"
