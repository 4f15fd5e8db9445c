"""``_total=estimate`` (the planner's estimate on PostgreSQL) and references to this server's own base URL."""

from __future__ import annotations

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.search import parse_search
from bindeled.store.base import Store
from bindeled.store.search import SearchIndexer, search

pytestmark = pytest.mark.anyio

BASE = "https://fhir.example.dk/r4"


async def _patients(store: Store, n: int) -> None:
    async with store.transaction() as tx:
        for i in range(n):
            body = {"resourceType": "Patient", "id": f"p{i}", "gender": "female" if i % 3 else "male"}
            await tx.update("Patient", f"p{i}", body)


async def test_estimate_is_plausible_and_exact_on_the_last_page(store: Store, definitions: Definitions) -> None:
    await _patients(store, 60)
    females = 40
    paged = parse_search("Patient", [("gender", "female"), ("_count", "10"), ("_total", "estimate")], definitions,
                         strict=True)  # fmt: skip
    result = await search(store, paged)
    assert result.total is not None
    if store.dialect == "postgresql":
        assert result.total >= 11  # never less than what was seen (a page and one more)
    else:
        assert result.total == females  # SQLite has no planner estimate: it counts
    whole = parse_search("Patient", [("gender", "female"), ("_count", "100"), ("_total", "estimate")], definitions,
                         strict=True)  # fmt: skip
    assert (await search(store, whole)).total == females  # the last page: known exactly without asking
    accurate = parse_search("Patient", [("gender", "female"), ("_count", "10"), ("_total", "accurate")], definitions,
                            strict=True)  # fmt: skip
    assert (await search(store, accurate)).total == females
    none = parse_search("Patient", [("_count", "100"), ("_total", "none")], definitions, strict=True)
    assert (await search(store, none)).total is None


@pytest.fixture
def store_indexer(definitions: Definitions) -> SearchIndexer:
    return SearchIndexer(definitions, base_url=BASE)


async def test_absolute_references_to_this_server(store: Store, definitions: Definitions) -> None:
    async with store.transaction() as tx:
        await tx.update("Patient", "p1", {"resourceType": "Patient", "id": "p1"})
        for oid, ref in [
            ("relative", "Patient/p1"),
            ("absolute", f"{BASE}/Patient/p1"),
            ("versioned", f"{BASE}/Patient/p1/_history/3"),
            ("elsewhere", "https://other.example.dk/r4/Patient/p1"),
        ]:
            body = {"resourceType": "Observation", "id": oid, "status": "final", "code": {"text": "x"},
                    "subject": {"reference": ref}}  # fmt: skip
            await tx.update("Observation", oid, body)

    async def ids(value: str, base_url: str | None = BASE) -> set[str]:
        request = parse_search("Observation", [("subject", value)], definitions, strict=True, base_url=base_url)
        return {r.id for r in (await search(store, request)).resources}

    mine = {"relative", "absolute", "versioned"}
    assert await ids("Patient/p1") == mine
    assert await ids(f"{BASE}/Patient/p1") == mine
    assert await ids("p1") == mine
    assert await ids("https://other.example.dk/r4/Patient/p1") == {"elsewhere"}
    assert await ids(f"{BASE}/Patient/p1", base_url=None) == {"absolute"}
