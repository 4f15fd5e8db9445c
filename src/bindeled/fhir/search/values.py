"""Index values: what one search parameter extracts from one resource, one typed record per kind.

Each record is already normalised for searching (strings folded, dates and numbers turned into
ranges), so the store writes them as they are and a query compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "CompositeValue",
    "DateValue",
    "IndexValue",
    "NumberValue",
    "QuantityValue",
    "ReferenceValue",
    "SimpleValue",
    "StringValue",
    "TokenValue",
    "UriValue",
]


@dataclass(frozen=True, slots=True)
class TokenValue:
    """A code, Coding, Identifier, ContactPoint or boolean: ``system|code`` plus text for ``:text``."""

    system: str | None
    code: str | None
    text: str | None = None
    """Folded display / CodeableConcept.text / Identifier.type.text, for the ``:text`` modifier."""
    type_system: str | None = None
    """For identifiers: a coding of Identifier.type, for the ``:of-type`` modifier."""
    type_code: str | None = None


@dataclass(frozen=True, slots=True)
class StringValue:
    """One string: folded (see :func:`~bindeled.fhir.search.normalize.fold`) and as written."""

    norm: str
    exact: str


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    """A reference: local ``Type/id``, an absolute URL or canonical, and/or a logical identifier."""

    target_type: str | None = None
    target_id: str | None = None
    url: str | None = None
    """Absolute URLs and canonicals (without ``|version``)."""
    identifier_system: str | None = None
    identifier_value: str | None = None


@dataclass(frozen=True, slots=True)
class DateValue:
    """The half-open UTC range ``[low, high)`` a date, dateTime, instant, Period or Timing covers.

    Both ends are ISO texts with a fixed width (``YYYY-MM-DDTHH:MM:SS.ffffff``), so they compare
    correctly as strings in every database.
    """

    low: str
    high: str


@dataclass(frozen=True, slots=True)
class NumberValue:
    """A number as the closed range ``[low, high]`` (equal ends for an ordinary value)."""

    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True, slots=True)
class QuantityValue:
    """A Quantity (or Age, Duration, Money, Range, SampledData origin) with its unit."""

    low: Decimal | None
    high: Decimal | None
    system: str | None = None
    code: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class UriValue:
    """A uri, url or canonical (without ``|version``)."""

    value: str


SimpleValue = TokenValue | StringValue | ReferenceValue | DateValue | NumberValue | QuantityValue | UriValue


@dataclass(frozen=True, slots=True)
class CompositeValue:
    """One combination of component values found together (e.g. a component's code and its value)."""

    parts: tuple[SimpleValue, ...]


IndexValue = SimpleValue | CompositeValue
