"""FHIR search semantics, pure: index values extracted from resources, and queries parsed from URLs.

* :mod:`.registry` — every SearchParameter (official R4 and custom) compiled into an extractor;
* :mod:`.values` / :mod:`.normalize` — typed index values and how they are normalised;
* :mod:`.request` / :mod:`.query` — the parsed search and the URL parser.

The SQL side (index tables, compiler, executor) lives in :mod:`bindeled.store.search`.
"""

from .normalize import date_range, fold, significant_range
from .query import MAX_COUNT, parse_search
from .registry import Component, SearchParam, SearchRegistry, registry_for
from .request import (
    Chain,
    Compartment,
    CompositeQuery,
    Condition,
    Criterion,
    DateQuery,
    Has,
    Include,
    MissingQuery,
    NumberQuery,
    QuantityQuery,
    QueryValue,
    ReferenceQuery,
    SearchRequest,
    SortKey,
    StringQuery,
    TokenQuery,
    UriQuery,
)
from .values import (
    CompositeValue,
    DateValue,
    IndexValue,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
)

__all__ = [
    "MAX_COUNT",
    "Chain",
    "Compartment",
    "Component",
    "CompositeQuery",
    "CompositeValue",
    "Condition",
    "Criterion",
    "DateQuery",
    "DateValue",
    "Has",
    "Include",
    "IndexValue",
    "MissingQuery",
    "NumberQuery",
    "NumberValue",
    "QuantityQuery",
    "QuantityValue",
    "QueryValue",
    "ReferenceQuery",
    "ReferenceValue",
    "SearchParam",
    "SearchRegistry",
    "SearchRequest",
    "SortKey",
    "StringQuery",
    "StringValue",
    "TokenQuery",
    "TokenValue",
    "UriQuery",
    "UriValue",
    "date_range",
    "fold",
    "parse_search",
    "registry_for",
    "significant_range",
]
