"""The public names of bindeled.store.search, pinned, and the indexer's contract with the store."""

from __future__ import annotations

import bindeled.store.search as package
from bindeled.fhir.definitions import Definitions
from bindeled.store.base import Indexer
from bindeled.store.search import TABLES, SearchIndexer


def test_public_names() -> None:
    assert sorted(package.__all__) == [
        "CompiledSearch",
        "ReindexResult",
        "SearchIndexer",
        "SearchResult",
        "TABLES",
        "Table",
        "compile_count",
        "compile_search",
        "everything",
        "load_search_parameters",
        "reindex",
        "search",
    ]
    assert all(hasattr(package, name) for name in package.__all__)


def test_indexer_rows_fit_their_tables(definitions: Definitions) -> None:
    indexer: Indexer = SearchIndexer(definitions)
    assert sorted(indexer.tables()) == sorted(t.name for t in TABLES.values())
    observation = {
        "resourceType": "Observation",
        "id": "bp",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2020-01-01T10:00:00Z",
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                "valueQuantity": {"value": 120, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
            }
        ],
    }
    rows = indexer.rows("Observation", observation)
    by_name = {t.name: t for t in TABLES.values()}
    for table, (columns, values) in rows.items():
        assert tuple(columns) == by_name[table].all_columns
        assert all(len(v) == len(columns) for v in values)
    assert ("subject", "Patient", "p1", None, None, None) in rows["search_reference"][1]
    composite = [v for v in rows["search_composite"][1] if v[0] == "component-code-value-quantity"]
    assert composite == [
        ("component-code-value-quantity", "http://loinc.org", "8480-6", None, None, None)
        + ("http://unitsofmeasure.org", "mm[Hg]", None, 120.0, 120.0)
        + (None,) * 5
    ]
