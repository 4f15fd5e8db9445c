"""The public names of bindeled.fhir.search, pinned."""

from __future__ import annotations

import bindeled.fhir.search as package


def test_public_names() -> None:
    assert sorted(package.__all__) == [
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
        "MAX_COUNT",
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
    assert all(hasattr(package, name) for name in package.__all__)
