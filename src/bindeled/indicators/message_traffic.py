"""Indicators: MedCom message traffic and acknowledgement per message type and municipality.

Drawn from the hub's delivery statistics (``messaging/delivery/statistics.py``) rolled up to the
sending and receiving municipality (kommunekode; ``-`` is a party outside any municipality: a
hospital, or a GLN the register does not know). One row per (message type, sender municipality,
receiver municipality), so the rows of a type sum to the region's total (DOMAIN 10.3):

* ``bindeled.message-traffic`` — numerator: letters of the type in the group received by the hub in
  the period; denominator: all letters of that type in the period; value: the group's share.
* ``bindeled.message-acknowledged`` — numerator: letters the receiver acknowledged; denominator: the
  group's letters; value: the acknowledged share.

Delivery and acknowledgement times (median and 99th percentile, seconds from receipt) are shown
beside them, and withheld with the cell when the group is small. MedCom letters carry no FMK data,
and the definitions refuse medication sources, so medication never enters these statistics.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from ..messaging.delivery.statistics import DeliveryFigures
from .record import Indicator, IndicatorDefinition, indicator

__all__ = ["MESSAGE_ACKNOWLEDGED", "MESSAGE_TRAFFIC", "OUTSIDE", "TrafficRow", "traffic_csv", "traffic_rows"]

MESSAGE_TRAFFIC = IndicatorDefinition(
    id="bindeled.message-traffic",
    version="1",
    title="MedCom letters per message type and municipality",
    sources=frozenset({"MessageHeader"}),
)
MESSAGE_ACKNOWLEDGED = IndicatorDefinition(
    id="bindeled.message-acknowledged",
    version="1",
    title="Share of MedCom letters acknowledged by the receiver",
    sources=frozenset({"MessageHeader"}),
)
OUTSIDE = "-"
"""The code of parties outside any municipality (as the delivery statistics group them)."""


@dataclass(frozen=True, slots=True)
class TrafficRow:
    """One message type between one sending and one receiving municipality."""

    message_type: str
    sender_code: str
    sender_name: str
    traffic: Indicator
    """Geography: the receiving municipality."""
    acknowledged: Indicator
    delivery_p50: float | None
    delivery_p99: float | None
    acknowledgement_p50: float | None
    acknowledgement_p99: float | None


def _row(figures: DeliveryFigures, total: int, name_of: Callable[[str], str], period: tuple[date, date]) -> TrafficRow:
    receiver, sender = figures.receiver, figures.sender
    traffic = indicator(MESSAGE_TRAFFIC, period, "municipality", receiver, name_of(receiver), figures.letters, total)
    acknowledged = indicator(
        MESSAGE_ACKNOWLEDGED, period, "municipality", receiver, name_of(receiver), figures.acknowledged, figures.letters
    )
    hidden = traffic.suppressed or acknowledged.suppressed
    return TrafficRow(
        figures.message_type,
        sender,
        name_of(sender),
        traffic,
        acknowledged,
        *((None,) * 4 if hidden else (
            figures.delivery_p50, figures.delivery_p99, figures.acknowledgement_p50, figures.acknowledgement_p99
        )),
    )  # fmt: skip


def traffic_rows(
    figures: Iterable[DeliveryFigures], name_of: Callable[[str], str], period: tuple[date, date]
) -> list[TrafficRow]:
    """The rows of delivery figures grouped by municipality (``by="municipality"``), by type and names."""
    found = list(figures)
    totals: Counter[str] = Counter()
    for group in found:
        totals[group.message_type] += group.letters
    rows = [_row(group, totals[group.message_type], name_of, period) for group in found]
    return sorted(rows, key=lambda r: (r.message_type, r.sender_name, r.traffic.geography_name))


def _number(value: float | int | None, fmt: str = "{}") -> str:
    return "" if value is None else fmt.format(value)


def traffic_csv(rows: Iterable[TrafficRow]) -> str:
    """The rows as CSV: the type and sender, then the indicator record fields of both cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["message_type", "sender_municipality", "receiver_municipality", "receiver_name", "period_start",
         "period_end", "letters_id", "letters_definition_version", "letters", "letters_denominator",
         "letters_share", "letters_suppressed", "acknowledged_id", "acknowledged_definition_version",
         "acknowledged", "acknowledged_value", "acknowledged_suppressed", "delivery_p50_seconds",
         "delivery_p99_seconds", "acknowledgement_p50_seconds", "acknowledgement_p99_seconds"]
    )  # fmt: skip
    for r in rows:
        t, a = r.traffic, r.acknowledged
        writer.writerow(
            [r.message_type, r.sender_code, t.geography_code, t.geography_name, t.period_start.isoformat(),
             t.period_end.isoformat(), t.id, t.definition_version, _number(t.numerator), _number(t.denominator),
             _number(t.value, "{:.4f}"), str(t.suppressed).lower(), a.id, a.definition_version,
             _number(a.numerator), _number(a.value, "{:.4f}"), str(a.suppressed).lower(),
             _number(r.delivery_p50, "{:.1f}"), _number(r.delivery_p99, "{:.1f}"),
             _number(r.acknowledgement_p50, "{:.1f}"), _number(r.acknowledgement_p99, "{:.1f}")]
        )  # fmt: skip
    return out.getvalue()
