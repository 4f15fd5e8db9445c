"""Message traffic indicators from delivery figures: shares per type, acknowledgement, suppression, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from bindeled.indicators.message_traffic import OUTSIDE, traffic_csv, traffic_rows
from bindeled.indicators.record import IndicatorDefinition
from bindeled.messaging.delivery.statistics import DeliveryFigures

PERIOD = (date(2026, 11, 1), date(2026, 12, 1))
NAMES = {"0461": "Odense Kommune", "0479": "Svendborg Kommune", OUTSIDE: "outside"}


def _figures(kind: str, sender: str, receiver: str, letters: int, acknowledged: int) -> DeliveryFigures:
    return DeliveryFigures(kind, sender, receiver, letters, letters, acknowledged, 0, 2.0, 9.0, 30.0, 80.0)


def test_rows_of_a_type_sum_to_its_total_and_small_groups_are_suppressed() -> None:
    figures = [
        _figures("hospital-notification-message", OUTSIDE, "0461", 40, 38),
        _figures("hospital-notification-message", OUTSIDE, "0479", 8, 8),
        _figures("hospital-notification-message", "0461", "0479", 2, 1),
        _figures("care-communication-message", "0479", "0461", 12, 3),
    ]
    rows = traffic_rows(figures, NAMES.__getitem__, PERIOD)
    hn = [r for r in rows if r.message_type == "hospital-notification-message"]
    assert {r.traffic.denominator for r in hn} == {50}
    assert sum(r.traffic.numerator or 0 for r in hn) == 48  # the suppressed cell (2 letters) is withheld
    small = next(r for r in hn if r.sender_code == "0461")
    assert small.traffic.suppressed and small.traffic.numerator is None and small.delivery_p50 is None
    odense = next(r for r in hn if r.traffic.geography_code == "0461")
    assert odense.traffic.value == pytest.approx(0.8) and odense.acknowledged.value == pytest.approx(0.95)
    assert odense.sender_name == "outside" and odense.traffic.geography_name == "Odense Kommune"
    assert odense.delivery_p50 == 2.0 and odense.acknowledgement_p99 == 80.0
    cc = next(r for r in rows if r.message_type == "care-communication-message")
    assert cc.acknowledged.suppressed and cc.acknowledgement_p50 is None  # 3 acknowledged: too few to show
    assert cc.traffic.id == "bindeled.message-traffic" and cc.acknowledged.id == "bindeled.message-acknowledged"


def test_csv_carries_the_indicator_record_fields_and_marks_suppression() -> None:
    rows = traffic_rows([_figures("hospital-notification-message", OUTSIDE, "0461", 3, 3)], NAMES.__getitem__, PERIOD)
    (line,) = list(csv.DictReader(io.StringIO(traffic_csv(rows))))
    assert line["letters_id"] == "bindeled.message-traffic" and line["letters_definition_version"] == "1"
    assert line["period_start"] == "2026-11-01" and line["receiver_municipality"] == "0461"
    assert line["letters"] == "" and line["letters_suppressed"] == "true" and line["delivery_p50_seconds"] == ""


def test_an_indicator_over_medication_is_refused() -> None:
    with pytest.raises(ValueError, match="medication"):
        IndicatorDefinition("x", "1", "FMK", frozenset({"MedicationStatement"}))
