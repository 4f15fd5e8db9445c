"""Custom SearchParameters registered through the repository, reindexing, and loading them at start-up.

The parameter is a DK-flavoured one (a Patient's municipality code in an extension, as DK-core
carries it); its code is unique to this module so the shared registry's other users never see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bindeled.errors import NotFound, Unprocessable, UnsupportedParameter
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.search import parse_search, registry_for
from bindeled.fhir.validation import Validator
from bindeled.store.base import Store
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.store.search import search
from bindeled.store.search.custom import load_search_parameters
from bindeled.store.search.reindex import reindex

pytestmark = pytest.mark.anyio

MUNICIPALITY = "http://example.dk/fhir/StructureDefinition/test-municipality"
CODE = "test-municipality-x7"
SP: dict[str, Any] = {
    "resourceType": "SearchParameter",
    "url": "http://example.dk/fhir/SearchParameter/test-municipality",
    "name": "TestMunicipality",
    "status": "active",
    "description": "A patient's municipality code",
    "code": CODE,
    "base": ["Patient"],
    "type": "token",
    "expression": f"Patient.extension('{MUNICIPALITY}').value",
}


def patient(municipality: str, family: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"family": family}],
        "extension": [
            {
                "url": MUNICIPALITY,
                "valueCodeableConcept": {"coding": [{"system": "urn:dk:municipality", "code": municipality}]},
            }
        ],
    }


@pytest.fixture(scope="module")
def validator(definitions: Definitions) -> Validator:
    return Validator(definitions)


@pytest.fixture(autouse=True)
def clean_registry(definitions: Definitions) -> Iterator[None]:
    """Runs each test as trusted internal work, and takes back what it registered."""
    registry = registry_for(definitions)
    before = set(registry.custom())
    with as_system():
        yield
    for key in set(registry.custom()) - before:
        registry.unregister(key)


@pytest.fixture
def repo(store: Store, definitions: Definitions, validator: Validator) -> Repository:
    return Repository(store, definitions, validator)


async def ids(repo: Repository, params: list[tuple[str, str]], rtype: str = "Patient") -> set[str]:
    _, result = await repo.search(rtype, params, strict=True)
    return {r.id for r in result.resources}


async def test_register_reindex_retire_delete(repo: Repository) -> None:
    old = [(await repo.create("Patient", patient(code, f"Old{code}"))).stored.id for code in ("101", "147", "101")]
    with pytest.raises(UnsupportedParameter):
        await ids(repo, [(CODE, "101")])

    sp = (await repo.create("SearchParameter", SP)).stored
    assert await ids(repo, [(CODE, "101")]) == set()  # stored before: not indexed yet
    new = (await repo.create("Patient", patient("101", "New"))).stored.id
    assert await ids(repo, [(CODE, "urn:dk:municipality|101")]) == {new}

    result = await repo.reindex("Patient", batch_size=2)
    assert (result.resources, result.batches) == (4, 2)
    assert result.rows > 0
    assert await ids(repo, [(CODE, "101")]) == {old[0], old[2], new}
    assert await ids(repo, [(CODE, "147")]) == {old[1]}

    everything = await repo.reindex(batch_size=3)
    assert everything.resources == 5  # four patients and the SearchParameter
    assert (await repo.reindex("Patient", old[1])).resources == 1
    with pytest.raises(NotFound):
        await repo.reindex("Patient", "no-such-patient")

    retired = {**SP, "id": sp.id, "status": "retired"}
    await repo.update("SearchParameter", sp.id, retired)
    with pytest.raises(UnsupportedParameter):
        await ids(repo, [(CODE, "101")])
    await repo.update("SearchParameter", sp.id, {**SP, "id": sp.id})
    assert await ids(repo, [(CODE, "147")]) == {old[1]}
    await repo.delete("SearchParameter", sp.id)
    with pytest.raises(UnsupportedParameter):
        await ids(repo, [(CODE, "101")])


async def test_reindex_drops_rows_of_a_parameter_no_longer_known(repo: Repository, definitions: Definitions) -> None:
    sp = (await repo.create("SearchParameter", SP)).stored
    pid = (await repo.create("Patient", patient("860", "Aalborg"))).stored.id
    count_sql = "SELECT COUNT(*) FROM search_token WHERE param = " + ("?" if repo.store.dialect == "sqlite" else "$1")
    assert (await repo.store.fetch_all(count_sql, [CODE]))[0][0] == 1
    await repo.delete("SearchParameter", sp.id)
    await repo.reindex("Patient", pid)
    assert (await repo.store.fetch_all(count_sql, [CODE]))[0][0] == 0


async def test_unusable_active_parameter_is_refused(repo: Repository) -> None:
    with pytest.raises(Unprocessable):
        await repo.create("SearchParameter", {**SP, "code": "bad code"})
    draft = (await repo.create("SearchParameter", {**SP, "status": "draft"})).stored
    with pytest.raises(UnsupportedParameter):
        await ids(repo, [(CODE, "101")])
    assert draft.version_id == 1


async def test_loaded_at_start_up(repo: Repository, definitions: Definitions) -> None:
    sp = (await repo.create("SearchParameter", SP)).stored
    await repo.create("SearchParameter", {**SP, "code": CODE + "-draft", "status": "draft"})
    pid = (await repo.create("Patient", patient("751", "Aarhus"))).stored.id
    registry = registry_for(definitions)
    registry.unregister(f"SearchParameter/{sp.id}")  # as a process that has just started
    with pytest.raises(UnsupportedParameter):
        await ids(repo, [(CODE, "751")])
    assert await load_search_parameters(repo.store, definitions) == 1
    assert await ids(repo, [(CODE, "751")]) == {pid}
    assert registry.get("Patient", CODE + "-draft") is None


async def test_reindex_across_types_pages_by_key(store: Store, definitions: Definitions) -> None:
    from bindeled.store.search import SearchIndexer

    async with store.transaction() as tx:
        for i in range(7):
            await tx.update("Patient", f"p{i}", {"resourceType": "Patient", "id": f"p{i}", "gender": "male"})
            await tx.update(
                "Group", f"g{i}", {"resourceType": "Group", "id": f"g{i}", "type": "person", "actual": True}
            )
    result = await reindex(store, SearchIndexer(definitions), batch_size=4)
    assert (result.resources, result.batches) == (14, 4)
    request = parse_search("Patient", [("gender", "male")], definitions, strict=True)
    assert len((await search(store, request)).resources) == 7


async def test_a_rolled_back_registration_is_taken_back(repo: Repository, store: Store) -> None:
    """A SearchParameter written in a transaction that fails is not left in force, nor is a retirement."""
    code = CODE + "-rb"

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with store.transaction() as tx:
            await repo.create_in(tx, "SearchParameter", {**SP, "code": code, "url": SP["url"] + "-rb"})
            parse_search("Patient", [(code, "x")], repo.definitions, strict=True)  # in force inside
            raise Abort
    with pytest.raises(UnsupportedParameter):
        await ids(repo, [(code, "x")])

    sp = (await repo.create("SearchParameter", {**SP, "code": code, "url": SP["url"] + "-rb"})).stored
    with pytest.raises(Abort):
        async with store.transaction() as tx:
            await repo.update_in(tx, "SearchParameter", sp.id, {**SP, "id": sp.id, "code": code, "status": "retired"})
            raise Abort
    assert await ids(repo, [(code, "x")]) == set()
