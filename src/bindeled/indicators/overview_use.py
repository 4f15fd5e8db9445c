"""Indicator: use of the overview per municipality (traffic statistics from the audit trail).

Numerator: successful, audited staff requests under an overview purpose of use (appointments,
master-data card, plans — ``ESP_*``) made from units in the municipality during the period.
Denominator: all such requests in the region in the period. Value: the municipality's share.
Refused requests, citizens' own look-ups and system calls are not counted; medication purposes
never are (they are not overview purposes, and the definition refuses medication sources).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime

from ..fhir.jsonio import Resource
from .record import Indicator, IndicatorDefinition, indicator

__all__ = ["OVERVIEW_PURPOSES", "OVERVIEW_USE", "overview_day", "overview_unit", "overview_use", "overview_use_cells"]

OVERVIEW_USE = IndicatorDefinition(
    id="bindeled.overview-use",
    version="1",
    title="Use of the overview per municipality",
    sources=frozenset({"AuditEvent"}),
)
OVERVIEW_PURPOSES = frozenset({"ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS"})
_PURPOSE_SYSTEM = "urn:bindeled:purpose-of-use"
_SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"


def _requestor(event: Resource) -> Resource | None:
    for agent in event.get("agent", []):
        if isinstance(agent, dict) and agent.get("requestor") is True:
            return agent
    return None


def overview_unit(event: Resource) -> str | None:
    """The SOR unit of a successful overview request, or None when the event is not one."""
    if event.get("outcome") != "0":
        return None
    agent = _requestor(event)
    if agent is None:
        return None
    purposes = {
        c.get("code")
        for p in agent.get("purposeOfUse", [])
        for c in p.get("coding", [])
        if c.get("system") == _PURPOSE_SYSTEM
    }
    if not purposes & OVERVIEW_PURPOSES:
        return None
    location = agent.get("location", {}).get("identifier", {})
    return str(location["value"]) if location.get("system") == _SOR_SYSTEM and location.get("value") else None


def overview_day(event: Resource) -> date | None:
    """The UTC day an event was recorded on (None when it has no time)."""
    recorded = event.get("recorded")
    if not isinstance(recorded, str):
        return None
    return datetime.fromisoformat(recorded).astimezone(UTC).date()


def _within(event: Resource, start: date, end: date) -> bool:
    day = overview_day(event)
    return day is not None and start <= day < end


def overview_use(
    events: Iterable[Resource],
    municipality_of: Callable[[str], tuple[str, str] | None],
    period: tuple[date, date],
    municipalities: Iterable[tuple[str, str]] = (),
) -> list[Indicator]:
    """One cell per municipality (every one in ``municipalities``, plus any seen), by name."""
    per_unit: Counter[str] = Counter()
    for event in events:
        unit = overview_unit(event) if _within(event, *period) else None
        if unit is not None:
            per_unit[unit] += 1
    return overview_use_cells(per_unit, municipality_of, period, municipalities)


def overview_use_cells(
    per_unit: Mapping[str, int],
    municipality_of: Callable[[str], tuple[str, str] | None],
    period: tuple[date, date],
    municipalities: Iterable[tuple[str, str]] = (),
) -> list[Indicator]:
    """The cells from overview requests counted per requesting SOR unit over ``period``."""
    counts: Counter[tuple[str, str]] = Counter()
    for unit, requests in per_unit.items():
        place = municipality_of(unit)
        if place is not None:
            counts[place] += requests
    total = sum(per_unit.values())
    places = sorted({*municipalities, *counts}, key=lambda p: p[1])
    return [indicator(OVERVIEW_USE, period, "municipality", c, n, counts[(c, n)], total) for c, n in places]
