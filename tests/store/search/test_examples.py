"""Searches over the official R4 Patient and Observation examples, with results worked out by hand.

The expected ids come from reading the example files (names, birth dates, identifiers, codes,
effective times), not from running the search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bindeled.errors import NotFound
from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.search import parse_search
from bindeled.store.base import Store
from bindeled.store.search import everything, search

pytestmark = pytest.mark.anyio


def read_examples(folder: Path) -> list[dict[str, Any]]:
    """The official Patient and Observation examples, in file-name order (which fixes lastUpdated order)."""
    found = []
    for prefix in ("Patient", "Observation"):
        for path in sorted(folder.glob(f"{prefix}-*.json")):
            resource = jsonio.decode(path.read_bytes())
            if resource.get("resourceType") == prefix:
                found.append(resource)
    return found


async def load_examples(store: Store, folder: Path) -> None:
    examples = read_examples(folder)
    async with store.transaction() as tx:
        for resource in examples:
            await tx.update(resource["resourceType"], resource["id"], resource)


FEMALES = {"animal", "genetics-example1", "infant-mom", "infant-twin-1", "mom", "pat4", "proband"}
ORG1 = ["ch-example", "dicom", "example", "pat1", "pat2", "pat3", "pat4"]

CASES: list[tuple[str, list[tuple[str, str]], set[str]]] = [
    ("Patient", [("name", "peter")], {"example"}),
    ("Patient", [("name", "PÉTER")], {"example"}),
    ("Patient", [("family", "solo")], {"infant-mom", "infant-twin-1", "infant-twin-2"}),
    ("Patient", [("given", "duck,leia")], {"pat1", "pat2", "infant-mom"}),
    ("Patient", [("family", "notsowell"), ("given", "sandy")], {"pat4"}),
    ("Patient", [("name:exact", "Donald")], {"pat1", "pat2"}),
    ("Patient", [("name:exact", "donald")], set()),
    ("Patient", [("name:contains", "OWEL")], {"pat3", "pat4"}),
    ("Patient", [("birthdate", "1974-12-25")], {"ch-example", "example"}),
    ("Patient", [("birthdate", "lt1950")], {"f001", "glossy", "xcda"}),
    ("Patient", [("birthdate", "ge2017")], {"infant-twin-1", "infant-twin-2", "newborn"}),
    ("Patient", [("birthdate", "2017-05")], {"infant-twin-1", "infant-twin-2"}),
    # ap: ±10 % of the distance to now (about five years around 1974-12-25).
    ("Patient", [("birthdate", "ap1974-12-25")], {"ch-example", "example", "genetics-example1", "mom"}),
    ("Patient", [("birthdate:missing", "true")], {"dicom", "ihe-pcd", "infant-fetal", "pat1", "pat2"}),
    ("Patient", [("gender", "female")], FEMALES),
    ("Patient", [("gender", "http://hl7.org/fhir/administrative-gender|female")], FEMALES),
    (
        "Patient",
        [("gender:in", "http://hl7.org/fhir/ValueSet/administrative-gender"), ("name", "donald")],
        {"pat1", "pat2"},
    ),
    ("Patient", [("identifier", "urn:oid:0.1.2.3.4.5.6.7|")], {"pat1", "pat2", "pat3", "pat4"}),
    ("Patient", [("identifier", "12345")], {"example", "xcda"}),
    ("Patient", [("identifier", "urn:oid:1.2.36.146.595.217.0.1|12345")], {"example"}),
    ("Patient", [("organization", "Organization/1")], set(ORG1)),
    ("Patient", [("organization", "1")], set(ORG1)),
    ("Patient", [("deceased", "true")], {"pat3", "pat4"}),
    ("Patient", [("_id", "pat1,pat3")], {"pat1", "pat3"}),
    ("Patient", [("_has:Observation:patient:code", "15074-8")], {"f001"}),
    ("Observation", [("code", "http://loinc.org|8302-2")], {"body-height", "body-length"}),
    ("Observation", [("patient", "f201")], {"f202", "f203", "f204", "f205", "f206"}),
    ("Observation", [("subject", "Patient/f001")], {"ekg", "f001", "f002", "f003", "f004", "f005", "unsat"}),
    ("Observation", [("value-quantity", "gt100")], {"656", "example", "f204"}),
    ("Observation", [("value-quantity", "lt1")], {"1minute-apgar-score", "bmd", "herd1"}),
    ("Observation", [("value-quantity", "16.2|http://unitsofmeasure.org|kg/m2")], {"bmi", "bmi-using-related"}),
    ("Observation", [("date", "2013-04-05")], {"f005"}),
    (
        "Observation",
        [("date", "ge2018-03")],
        # f001's period has no end, so it reaches past any date.
        {"abdo-tender", "bgpanel", "bloodgroup", "f001", "map-sitting", "rhstatus", "trachcare"},
    ),
    (
        "Observation",
        [("date", "le1999-07-02")],
        {
            "bmi",
            "bmi-using-related",
            "body-height",
            "body-length",
            "body-temperature",
            "head-circumference",
            "heart-rate",
            "mbp",
            "respiratory-rate",
            "vitals-panel",
        },
    ),
    # Composites: the code and the value must come from the same component.
    (
        "Observation",
        [("component-code-value-quantity", "http://loinc.org|8480-6$gt100")],
        {"blood-pressure", "blood-pressure-dar"},
    ),
    ("Observation", [("component-code-value-quantity", "8480-6$lt100")], set()),
    ("Observation", [("component-code-value-quantity", "8462-4$lt100")], {"blood-pressure"}),
    ("Observation", [("code-value-quantity", "29463-7$185|http://unitsofmeasure.org|[lb_av]")], {"example"}),
    ("Observation", [("code-value-concept", "883-9$http://snomed.info/sct|112144000")], {"bloodgroup", "rhstatus"}),
    ("Observation", [("code-value-date", "8665-2$2016-12-30")], {"date-lastmp"}),
    ("Observation", [("code-value-date", "8665-2$2016-01-24")], set()),
    ("Observation", [("subject:Patient.name", "donald")], {"bmd", "date-lastmp"}),
    ("Observation", [("subject:Patient.birthdate", "1944-11-17"), ("code", "15074-8")], {"f001", "unsat"}),
]


async def test_hand_worked_searches(store: Store, definitions: Definitions) -> None:
    await load_examples(store, definitions.folder)
    wrong = {}
    for rtype, params, expected in CASES:
        request = parse_search(rtype, [*params, ("_count", "100")], definitions, strict=True)
        found = {r.id for r in (await search(store, request)).resources}
        if found != expected:
            wrong[f"{rtype}?{params}"] = (found - expected, expected - found)
    assert wrong == {}


async def test_sort_paging_and_includes(store: Store, definitions: Definitions) -> None:
    await load_examples(store, definitions.folder)

    async def ids(params: list[tuple[str, str]], rtype: str = "Patient") -> list[str]:
        result = await search(store, parse_search(rtype, params, definitions, strict=True))
        return [r.id for r in result.resources]

    assert await ids([("identifier", "urn:oid:0.1.2.3.4.5.6.7|"), ("_sort", "-birthdate")]) == [
        "pat4",
        "pat3",
        "pat1",
        "pat2",
    ]
    pages = [
        await ids([("organization", "Organization/1"), ("_count", "2"), ("_offset", str(o))]) for o in (0, 2, 4, 6)
    ]
    assert pages == [ORG1[0:2], ORG1[2:4], ORG1[4:6], ORG1[6:]]
    first = await search(
        store,
        parse_search(
            "Patient", [("organization", "1"), ("_count", "2"), ("_total", "accurate")], definitions, strict=True
        ),
    )
    assert (first.total, first.next_offset) == (7, 2)

    included = await search(
        store,
        parse_search("Observation", [("_id", "f001"), ("_include", "Observation:subject")], definitions, strict=True),
    )
    assert [(r.resource_type, r.id) for r in included.included] == [("Patient", "f001")]
    rev = await search(
        store,
        parse_search("Patient", [("_id", "f201"), ("_revinclude", "Observation:patient")], definitions, strict=True),
    )
    assert sorted(r.id for r in rev.included) == ["f202", "f203", "f204", "f205", "f206"]
    count = await search(
        store, parse_search("Patient", [("gender", "female"), ("_summary", "count")], definitions, strict=True)
    )
    assert (count.resources, count.total) == ((), len(FEMALES))


async def test_deleted_and_updated_resources_leave_the_index(store: Store, definitions: Definitions) -> None:
    async with store.transaction() as tx:
        await tx.create("Patient", {"resourceType": "Patient", "name": [{"family": "Sørensen"}]}, id="a")
        await tx.create("Patient", {"resourceType": "Patient", "name": [{"family": "Søndergaard"}]}, id="b")
    request = parse_search("Patient", [("family", "SOREN")], definitions, strict=True)
    assert [r.id for r in (await search(store, request)).resources] == ["a"]
    async with store.transaction() as tx:
        await tx.update("Patient", "a", {"resourceType": "Patient", "id": "a", "name": [{"family": "Hansen"}]})
        await tx.create("Patient", {"resourceType": "Patient", "name": [{"family": "Sorensen"}]}, id="c")
        assert [r.id for r in (await search(store, request, tx=tx)).resources] == ["c"]
        await tx.delete("Patient", "c")
    assert (await search(store, request)).resources == ()


async def test_compartment_search(store: Store, definitions: Definitions) -> None:
    await load_examples(store, definitions.folder)

    async def ids(rtype: str, compartment: tuple[str, str], params: list[tuple[str, str]]) -> set[str]:
        request = parse_search(rtype, [*params, ("_count", "100")], definitions, strict=True, compartment=compartment)
        return {r.id for r in (await search(store, request)).resources}

    f001 = {"ekg", "f001", "f002", "f003", "f004", "f005", "unsat"}
    assert await ids("Observation", ("Patient", "f001"), []) == f001
    assert await ids("Observation", ("Patient", "f001"), [("code", "15074-8")]) == {"f001", "unsat"}
    assert await ids("Patient", ("Patient", "f001"), []) == {"f001"}
    with pytest.raises(NotFound):
        parse_search("CodeSystem", [], definitions, strict=True, compartment=("Patient", "f001"))


async def test_everything(store: Store, definitions: Definitions) -> None:
    await load_examples(store, definitions.folder)
    found = await everything(store, definitions, "Patient", "f001")
    keys = [(r.resource_type, r.id) for r in found]
    assert keys[0] == ("Patient", "f001")
    assert sorted(keys[1:]) == [("Observation", i) for i in ("ekg", "f001", "f002", "f003", "f004", "f005", "unsat")]
    # pat2's observations, and pat1, which pat2 links to (Patient.link.other): referenced resources
    # come along.
    only = await everything(store, definitions, "Patient", "pat2", types=("Observation",))
    assert {(r.resource_type, r.id) for r in only} == {
        ("Patient", "pat2"),
        ("Observation", "bmd"),
        ("Observation", "date-lastmp"),
        ("Patient", "pat1"),
    }
    with pytest.raises(NotFound):
        await everything(store, definitions, "Patient", "nobody")
