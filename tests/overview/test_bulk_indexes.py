"""The bulk load's region-sized mode: indexing in worker processes, secondary indexes built afterwards.

On a fresh database of each backend: every index is back (same definitions) after ``defer_indexes``, also
when the load fails half-way; the rows match what one worker-less load writes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bindeled.demo.patients import synthetic_citizens
from bindeled.errors import Conflict
from bindeled.fhir.definitions import load_definitions
from bindeled.fhir.jsonio import Resource
from bindeled.overview.synthetic import overview_units, synthetic_overview
from bindeled.registry import SorTree, synthetic_region
from bindeled.store.base import Store
from bindeled.store.bulk import bulk_load
from bindeled.store.factory import open_store
from bindeled.store.search import SearchIndexer
from tests.backends import BACKENDS, database_url_for

_INDEXES = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    "postgresql": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname",
}
_COUNTS = (
    "SELECT (SELECT count(*) FROM resources), (SELECT count(*) FROM resource_history),"
    " (SELECT count(*) FROM search_token), (SELECT count(*) FROM search_reference), (SELECT count(*) FROM search_date)"
)


def _resources(citizens: int) -> list[Resource]:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    tree = SorTree.from_export(synthetic_region())
    people = [group[0] for group in synthetic_citizens(citizens, seed=3)]
    groups = synthetic_overview(people, overview_units(tree, now.date()), now=now, appointments_per_citizen=4)
    return [resource for group in groups for resource in group]


async def _load(url: str, resources: list[Resource], **options: int | bool) -> tuple[list[tuple[object, ...]], ...]:
    store: Store = open_store(url, indexer=SearchIndexer(load_definitions()))
    await store.open()
    try:
        before = await store.fetch_all(_INDEXES[store.dialect])
        half = len(resources) // 2
        with pytest.raises(Conflict):  # the second half repeats an id of the first: that batch fails
            await bulk_load(store, [*resources[:half], resources[0]], batch_size=half, **options)  # type: ignore[arg-type]
        assert await store.fetch_all(_INDEXES[store.dialect]) == before
        await bulk_load(store, resources[half:], batch_size=5, **options)  # type: ignore[arg-type]
        after = await store.fetch_all(_INDEXES[store.dialect])
        counts = await store.fetch_all(_COUNTS)
        found = await store.fetch_all(
            "SELECT count(*) FROM search_reference WHERE res_type = 'Appointment' AND param = 'patient'"
        )
        return before, after, counts, found
    finally:
        await store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_deferred_indexes_come_back_and_rows_match(backend: str, tmp_path: Path) -> None:
    resources = _resources(6)
    (tmp_path / "plain").mkdir()
    with database_url_for(backend, tmp_path / "plain") as url:
        plain = asyncio.run(_load(url, resources))
    (tmp_path / "deferred").mkdir()
    with database_url_for(backend, tmp_path / "deferred") as url:
        deferred = asyncio.run(_load(url, resources, defer_indexes=True, workers=1))
    before, after, counts, found = deferred
    assert after == before and len(before) > 20
    assert counts == plain[2] and counts[0][0] == len(resources)
    assert found == plain[3] and found[0][0] == sum(1 for r in resources if r["resourceType"] == "Appointment")
