"""The bulk load path (``store.bulk``) against the normal write path, seen over HTTP on both backends.

The same synthetic citizens are written twice into the live server's database: once resource by resource
through store transactions (the normal write path), once through :func:`bulk_load` under other ids. Every
search, ``$everything`` and ``$overview`` must then answer the same for both copies (ids mapped, the write
times left out), and re-loading an existing id must fail with a conflict.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bindeled.demo.patients import synthetic_citizens
from bindeled.errors import Conflict
from bindeled.overview.synthetic import OverviewUnits, Unit, synthetic_overview
from bindeled.store.base import Store
from bindeled.store.bulk import bulk_load
from bindeled.store.factory import open_store
from tests.api.conftest import LiveServer
from tests.api.overview.helpers import Units, as_user, make_units

Resource = dict[str, Any]
SUFFIX = "-b"


def _units(units: Units) -> OverviewUnits:
    return OverviewUnits(
        wards=(Unit(units.ward, "Test Sygehus, Medicinsk Afdeling", "65001000", None),),
        practices=(Unit(units.practice, "Test Lægehus", "65003000", None),),
        home_care=(Unit(units.home_care, "Test Kommune, Hjemmeplejen", "65002000", units.municipality_code),),
    )


def _copy_with_other_ids(resources: list[Resource]) -> list[Resource]:
    """The same resources with every id (and every reference to one) renamed ``<id>-b``."""
    text = json.dumps(resources)
    for resource in resources:
        text = text.replace(f'"{resource["id"]}"', f'"{resource["id"]}{SUFFIX}"')
        text = text.replace(f'/{resource["id"]}"', f'/{resource["id"]}{SUFFIX}"')
    copied: list[Resource] = json.loads(text)
    return copied


async def _write_both(server: LiveServer, normal: list[Resource], bulk: list[Resource]) -> None:
    store: Store = open_store(server.settings.database_url, indexer=server.app.state.services.store.indexer)
    await store.open()
    try:
        async with store.transaction() as tx:
            for resource in normal:
                await tx.create(resource["resourceType"], resource, id=resource["id"])
        result = await bulk_load(store, bulk, batch_size=7)
        assert result.resources == len(bulk)
        assert result.index_rows > len(bulk)
        with pytest.raises(Conflict):
            await bulk_load(store, bulk[:1])
    finally:
        await store.close()


def _strip(node: Any) -> Any:
    """The answer without what differs between two writes of the same data: times, links, bundle ids."""
    if isinstance(node, dict):
        dropped = {"lastUpdated", "link", "fullUrl", "timestamp"}
        return {k: _strip(v) for k, v in node.items() if k not in dropped}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _normalised(body: dict[str, Any], ids: list[str], *, of_bulk: bool) -> list[str]:
    """Bundle entries (or Parameters parts) as sorted JSON texts, bulk ids mapped back to the normal ones."""
    items = body.get("entry") or body.get("parameter") or []
    texts = []
    for item in items:
        text = json.dumps(_strip(item), sort_keys=True)
        if of_bulk:
            for id in ids:
                text = text.replace(f"{id}{SUFFIX}", id)
        texts.append(text)
    total = body.get("total")
    return sorted(texts) + ([f"total={total}"] if total is not None else [])


QUERIES = [
    "/Patient?_id={p}&_revinclude=RelatedPerson:patient&_revinclude=CarePlan:subject",
    "/Appointment?patient=Patient/{p}&_count=100",
    "/Appointment?patient=Patient/{p}&date=ge{now}&_count=100",
    "/Appointment?actor=Patient/{p}&status=booked&_include=Appointment:patient&_count=100",
    "/CarePlan?subject=Patient/{p}&status=active",
    "/Encounter?subject=Patient/{p}&_tag=current-stay",
    "/RelatedPerson?patient=Patient/{p}",
    "/Patient/{p}/$everything?_count=200",
]


def test_bulk_load_answers_as_the_normal_write_path(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    seed = random.randrange(10**9)
    people = [group[0] for group in synthetic_citizens(6, seed=seed)]
    now = datetime.now(UTC).replace(microsecond=0)
    groups = list(synthetic_overview(people, _units(units), now=now, seed=seed, appointments_per_citizen=6))
    normal = [resource for group in groups for resource in group]
    ids = [str(r["id"]) for r in normal]
    asyncio.run(_write_both(server, normal, _copy_with_other_ids(normal)))

    stamp = now.isoformat().replace("+00:00", "Z")
    found_any = dict.fromkeys(q for q in QUERIES if "Appointment" in q or "$everything" in q)
    with as_user(server, "gp", units.practice, "SJ_READ") as gp:
        for group in groups:
            patient = str(group[0]["id"])
            for query in QUERIES:
                a = client.get(query.format(p=patient, now=stamp))
                b = client.get(query.format(p=patient + SUFFIX, now=stamp))
                assert a.status_code == b.status_code == 200, (query, a.text, b.text)
                if query in found_any:
                    found_any[query] = found_any[query] or bool(a.json().get("entry"))
                assert _normalised(a.json(), ids, of_bulk=False) == _normalised(b.json(), ids, of_bulk=True), query
            a, b = gp.get(f"/Patient/{patient}/$overview"), gp.get(f"/Patient/{patient}{SUFFIX}/$overview")
            assert a.status_code == b.status_code == 200, (a.text, b.text)
            assert _normalised(a.json(), ids, of_bulk=False) == _normalised(b.json(), ids, of_bulk=True)
    # One citizen's random appointments may all lie in the past; six citizens' together never do in practice.
    assert all(found_any.values()), found_any
