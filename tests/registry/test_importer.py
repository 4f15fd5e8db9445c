"""Writing the SOR resources through the store: created once, updated in place, unchanged left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import pytest

from bindeled.registry import Contact, EanLocation, Level, SorEntity, SorExport, SorTree, import_into
from bindeled.store.base import Store
from bindeled.store.factory import open_store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = open_store("sqlite:///:memory:")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_import_and_reimport(store: Store, sygehus: SorExport) -> None:
    tree = SorTree.from_export(sygehus)
    first = await import_into(store, tree)
    assert (first.created, first.updated, first.unchanged) == (7, 0, 0)  # 4 Organizations, 3 Locations
    section = await store.read("Organization", "sor-347831000016005")
    assert section is not None and section.version_id == 1
    assert section.resource()["partOf"] == {"reference": "Organization/sor-347821000016008"}

    again = await import_into(store, tree)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)

    owner = tree["347801000016001"]
    changed = SorTree(
        [replace(owner, contact=Contact(phone="11111111")), *list(tree)[1:]], snapshot_date=tree.snapshot_date
    )
    third = await import_into(store, changed)
    # The phone is inherited all the way down: every Organization and Location shows it.
    assert (third.created, third.updated, third.unchanged) == (0, 7, 0)
    updated = await store.read("Location", "sor-347831000016005")
    assert updated is not None and updated.version_id == 2
    assert updated.resource()["telecom"][0]["value"] == "11111111"


async def test_active_follows_the_given_day(store: Store, praksis: SorExport) -> None:
    tree = SorTree.from_export(praksis)
    await import_into(store, tree, on=date(1990, 1, 1))
    stored = await store.read("Organization", "sor-8341000016002")
    assert stored is not None and stored.resource()["active"] is False
    result = await import_into(store, tree)
    assert result.updated == 6  # 3 Organizations and 2 Locations become active, and the Endpoint
    endpoint = await store.read("Endpoint", "gln-5790000141227")
    assert endpoint is not None and endpoint.resource()["status"] == "active"


async def test_entities_gone_from_the_export_are_switched_off(store: Store, sygehus: SorExport) -> None:
    old = SorTree.from_export(sygehus)
    await import_into(store, old)
    new = SorTree([e for e in old if e.sor_code != "347831000016005"], snapshot_date=old.snapshot_date)
    result = await import_into(store, new, previous=old)
    assert (result.created, result.updated, result.unchanged, result.retired) == (0, 0, 5, 2)
    organization = await store.read("Organization", "sor-347831000016005")
    assert organization is not None and organization.resource()["active"] is False
    location = await store.read("Location", "sor-347831000016005")
    assert location is not None and location.resource()["status"] == "inactive"
    again = await import_into(store, new, previous=old)
    assert again.retired == 0  # already switched off: nothing written


async def test_a_gln_taken_over_by_another_entity_stays_on(store: Store) -> None:
    gln = EanLocation("5790000141227")
    owner = SorEntity("11111000016001", Level.OWNER, "owner")
    old = SorTree([owner, SorEntity("22222000016002", Level.INSTITUTION, "old", owner.sor_code, ean=gln)])
    new = SorTree([owner, SorEntity("33333000016003", Level.INSTITUTION, "new", owner.sor_code, ean=gln)])
    day = date(2026, 1, 1)
    await import_into(store, old, on=day)
    result = await import_into(store, new, on=day, previous=old)
    assert result.retired == 2
    endpoint = await store.read("Endpoint", "gln-5790000141227")
    assert endpoint is not None
    assert endpoint.resource()["status"] == "active"
    assert endpoint.resource()["managingOrganization"] == {"reference": "Organization/sor-33333000016003"}
