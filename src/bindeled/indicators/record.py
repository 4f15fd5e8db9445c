"""The indicator record: what was counted, where, when, and whether the cell is too small to show.

A cell whose numerator or denominator is between 1 and :data:`SUPPRESSION_THRESHOLD` - 1 is
suppressed: its numerator and value are withheld (None) and ``suppressed`` is set, so a report shows
a mark instead of a number that could point at a person. Medication (FMK) data never enters an
indicator: a definition that names a medication resource type is refused when it is made.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["MEDICATION_TYPES", "SUPPRESSION_THRESHOLD", "Indicator", "IndicatorDefinition", "indicator", "to_csv"]

SUPPRESSION_THRESHOLD = 5
"""Counts from 1 to this minus one are suppressed."""

MEDICATION_TYPES = frozenset(
    {"Medication", "MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration"}
)

GeographyLevel = Literal["country", "region", "municipality", "hospital", "organisation"]


@dataclass(frozen=True, slots=True)
class IndicatorDefinition:
    """What an indicator counts: its id, the version of its definition, and the data it draws on."""

    id: str
    version: str
    title: str
    sources: frozenset[str]
    """The kinds of data counted (resource types, ``AuditEvent`` for traffic statistics)."""

    def __post_init__(self) -> None:
        if self.sources & MEDICATION_TYPES:
            raise ValueError(f"indicator {self.id!r} would count medication data, which never enters statistics")


@dataclass(frozen=True, slots=True)
class Indicator:
    """One cell: an indicator's value for one period and one place."""

    id: str
    definition_version: str
    period_start: date
    period_end: date
    """Exclusive."""
    geography_level: GeographyLevel
    geography_code: str
    geography_name: str
    numerator: int | None
    denominator: int | None
    value: float | None
    suppressed: bool


def _small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def indicator(
    definition: IndicatorDefinition,
    period: tuple[date, date],
    level: GeographyLevel,
    code: str,
    name: str,
    numerator: int,
    denominator: int,
    *,
    threshold: int = SUPPRESSION_THRESHOLD,
) -> Indicator:
    """The cell for these counts, suppressed when a count is small (and None as value when nothing to divide)."""
    if numerator < 0 or denominator < 0 or numerator > denominator:
        raise ValueError("an indicator needs 0 <= numerator <= denominator")
    suppressed = _small(numerator, threshold) or _small(denominator, threshold)
    value = None if suppressed or denominator == 0 else numerator / denominator
    return Indicator(
        definition.id,
        definition.version,
        period[0],
        period[1],
        level,
        code,
        name,
        None if suppressed else numerator,
        None if _small(denominator, threshold) else denominator,
        value,
        suppressed,
    )


def to_csv(cells: Iterable[Indicator]) -> str:
    """The cells as CSV (suppressed numbers left empty, marked in their own column)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "id",
            "definition_version",
            "period_start",
            "period_end",
            "geography_level",
            "geography_code",
            "geography_name",
            "numerator",
            "denominator",
            "value",
            "suppressed",
        ]
    )
    for c in cells:
        writer.writerow(
            [
                c.id,
                c.definition_version,
                c.period_start.isoformat(),
                c.period_end.isoformat(),
                c.geography_level,
                c.geography_code,
                c.geography_name,
                "" if c.numerator is None else c.numerator,
                "" if c.denominator is None else c.denominator,
                "" if c.value is None else f"{c.value:.4f}",
                "true" if c.suppressed else "false",
            ]
        )
    return out.getvalue()
