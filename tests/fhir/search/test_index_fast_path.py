"""``SearchRegistry.index`` (the indexer's and bulk load's fast path) gives exactly what ``values`` gives per parameter.

``index`` skips the value conversion of parameters whose expression selects nothing and reuses one list of
indexable parameters per type; ``values`` is the plain per-parameter path the read side also uses. They
must agree on every official R4 example (and the resources inside example Bundles) and on the synthetic
overview data the region benchmark bulk-loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bindeled.demo.patients import synthetic_citizens
from bindeled.fhir.definitions import Definitions, find_definitions_dir
from bindeled.fhir.search import SearchRegistry, registry_for
from bindeled.fhir.search.values import IndexValue
from bindeled.overview.synthetic import overview_units, synthetic_overview
from bindeled.registry import SorTree, synthetic_region


@pytest.fixture(scope="module")
def registry(definitions: Definitions) -> SearchRegistry:
    return registry_for(definitions)


def _official_examples() -> Iterator[dict[str, Any]]:
    for path in sorted(find_definitions_dir().glob("*.json")):
        try:
            resource = json.loads(path.read_bytes())
        except ValueError:
            continue
        if not isinstance(resource, dict) or "resourceType" not in resource:
            continue
        yield resource
        for entry in resource.get("entry", ()) if resource["resourceType"] == "Bundle" else ():
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                yield entry["resource"]


def _synthetic_overview() -> Iterator[dict[str, Any]]:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    units = overview_units(SorTree.from_export(synthetic_region()), now.date())
    patients = [group[0] for group in synthetic_citizens(20, seed=5)]
    for group in synthetic_overview(patients, units, now=now, appointments_per_citizen=20):
        yield from group


def _slow_index(registry: SearchRegistry, resource: dict[str, Any]) -> dict[str, list[IndexValue]]:
    out: dict[str, list[IndexValue]] = {}
    for code, param in registry.params(str(resource["resourceType"])).items():
        if param.type == "special" or (param.type == "composite" and not param.components):
            continue
        values = registry.values(param, resource)
        if values:
            out[code] = values
    return out


def _fast_index(registry: SearchRegistry, resource: dict[str, Any]) -> dict[str, list[IndexValue]]:
    return {code: values for code, (_, values) in registry.index(str(resource["resourceType"]), resource).items()}


def test_index_equals_per_parameter_values_on_every_official_example(registry: SearchRegistry) -> None:
    checked = indexed = 0
    for resource in _official_examples():
        fast = _fast_index(registry, resource)
        assert fast == _slow_index(registry, resource), f"{resource['resourceType']}/{resource.get('id')}"
        checked += 1
        indexed += sum(len(v) for v in fast.values())
    assert checked > 5000 and indexed > 100_000  # the whole package was read, and it says a lot


def test_index_equals_per_parameter_values_on_the_synthetic_region(registry: SearchRegistry) -> None:
    kinds: set[str] = set()
    for resource in _synthetic_overview():
        fast = _fast_index(registry, resource)
        assert fast == _slow_index(registry, resource)
        kinds.add(str(resource["resourceType"]))
        if resource["resourceType"] == "Appointment":
            assert {"patient", "date", "status", "actor"} <= set(fast)
    assert {"Patient", "Appointment", "RelatedPerson", "CarePlan"} <= kinds
