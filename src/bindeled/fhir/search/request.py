"""The parsed form of a search: what :func:`~bindeled.fhir.search.query.parse_search` returns.

A :class:`SearchRequest` is a conjunction of criteria (repeated parameters are AND); each
criterion holds alternatives (comma-separated values are OR). Criteria are leaves over one
parameter (:class:`Criterion`), chains through a reference (:class:`Chain`) or reverse chains
(:class:`Has`, ``_has``). The result parameters (``_count``, ``_sort``, ``_include`` …) sit beside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .cursor import Cursor
from .registry import SearchParam

__all__ = [
    "Chain",
    "Compartment",
    "CompositeQuery",
    "Condition",
    "Criterion",
    "DateQuery",
    "Has",
    "Include",
    "MissingQuery",
    "NumberQuery",
    "QuantityQuery",
    "QueryValue",
    "ReferenceQuery",
    "SearchRequest",
    "SimpleQuery",
    "SortKey",
    "StringQuery",
    "TokenQuery",
    "UriQuery",
]


@dataclass(frozen=True, slots=True)
class TokenQuery:
    """``[system]|[code]``; ``system`` is "" for ``|code`` (no system) and None when not given."""

    system: str | None
    code: str | None
    type_system: str | None = None
    """``:of-type``: the identifier type coding."""
    type_code: str | None = None
    text: str | None = None
    """``:text``: folded text to match by prefix."""
    codes: tuple[tuple[str | None, str | None], ...] = ()
    """``:in`` / ``:not-in``: the value set's (system, code) pairs; code None means a whole system."""


@dataclass(frozen=True, slots=True)
class StringQuery:
    """``norm`` is the folded value (prefix / contains); ``exact`` the value as given (``:exact``)."""

    norm: str
    exact: str


@dataclass(frozen=True, slots=True)
class ReferenceQuery:
    """A reference value: ``id``, ``Type/id``, an absolute URL, or (``:identifier``) ``system|value``."""

    target_type: str | None = None
    target_id: str | None = None
    url: str | None = None
    identifier_system: str | None = None
    identifier_value: str | None = None
    target_types: tuple[str, ...] = ()
    """For a bare id: the parameter's target types (any of them)."""


@dataclass(frozen=True, slots=True)
class DateQuery:
    prefix: str
    low: str
    high: str


@dataclass(frozen=True, slots=True)
class NumberQuery:
    prefix: str
    value: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True, slots=True)
class QuantityQuery:
    prefix: str
    value: Decimal
    low: Decimal
    high: Decimal
    system: str | None = None
    code: str | None = None
    """Matched against the quantity's code or, without a system, its unit text too."""


@dataclass(frozen=True, slots=True)
class UriQuery:
    value: str
    candidates: tuple[str, ...] = ()
    """``:above``: every URL the value lies below (itself included)."""


@dataclass(frozen=True, slots=True)
class MissingQuery:
    missing: bool


SimpleQuery = TokenQuery | StringQuery | ReferenceQuery | DateQuery | NumberQuery | QuantityQuery | UriQuery


@dataclass(frozen=True, slots=True)
class CompositeQuery:
    """``a$b``: the parts, in component order, each in its component's form."""

    parts: tuple[SimpleQuery, ...]


QueryValue = SimpleQuery | CompositeQuery | MissingQuery


@dataclass(frozen=True, slots=True)
class Criterion:
    """One parameter with its modifier and OR-ed values. ``param.type`` decides how values match."""

    param: SearchParam
    modifier: str | None
    values: tuple[QueryValue, ...]
    name: str = ""
    """The parameter as written (for messages and self links)."""


@dataclass(frozen=True, slots=True)
class Chain:
    """``ref[:Type].rest``: resources whose reference ``param`` points at one matching ``inner``."""

    param: SearchParam
    target_types: tuple[str, ...]
    inner: Condition


@dataclass(frozen=True, slots=True)
class Has:
    """``_has:Type:ref:rest``: resources referenced (through ``param`` of ``source_type``) by a match."""

    source_type: str
    param: SearchParam
    inner: Condition


@dataclass(frozen=True, slots=True)
class Compartment:
    """Compartment search (``Patient/123/Observation``): resources that a compartment parameter of
    theirs links to ``compartment_type/compartment_id`` (and, for the compartment's own type, that
    resource itself)."""

    compartment_type: str
    compartment_id: str
    params: tuple[str, ...]


Condition = Criterion | Chain | Has | Compartment


@dataclass(frozen=True, slots=True)
class SortKey:
    param: SearchParam
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """``_include`` / ``_revinclude``: ``source_type:param[:target_type]``; ``param`` None for ``*``."""

    source_type: str
    param: SearchParam | None
    target_type: str | None = None
    iterate: bool = False


@dataclass(frozen=True, slots=True)
class SearchRequest:
    resource_type: str | None
    """None for a search across all types (only common parameters apply)."""
    conditions: tuple[Condition, ...] = ()
    count: int = 50
    offset: int = 0
    cursor: Cursor | None = None
    """Where the page starts (after a previous page's last match, or before a next page's first)."""
    sort: tuple[SortKey, ...] = ()
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()
    total: str | None = None
    """``none``, ``estimate`` or ``accurate``; None: not asked (the executor counts)."""
    summary: str | None = None
    elements: tuple[str, ...] = ()
    contained: str | None = None
    ignored: tuple[str, ...] = field(default=())
    """Parameters left out in lenient mode (unknown or not supported), as written."""
