"""Searches over the Synthea R4 patient bundles, on both backends, checked against plain Python.

The bundles (../shared/testdata/synthea-r4-bundles) are loaded once per session per backend through
store transactions with the real indexer (one transaction per bundle, ``urn:uuid`` references
rewritten to ``Type/id`` as a server does). Every expected answer is worked out here from the bundle
JSON with ordinary dict walking and ``datetime`` comparisons — never with the search code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.search import parse_search
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from bindeled.store.search import SearchIndexer, everything, search
from tests.backends import BACKENDS, database_url_for

pytestmark = pytest.mark.anyio

ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

Key = tuple[str, str]


@dataclass
class Synthea:
    """The bundles' resources after loading (last write wins), by type and id."""

    resources: dict[Key, dict[str, Any]]

    def of(self, rtype: str) -> list[dict[str, Any]]:
        return [r for (t, _), r in self.resources.items() if t == rtype]


def _rewrite(node: Any, urls: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, urls) for k, v in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in urls:
            out["reference"] = urls[ref]
        return out
    if isinstance(node, list):
        return [_rewrite(v, urls) for v in node]
    return node


def read_bundles(folder: Path) -> list[list[dict[str, Any]]]:
    """Per bundle, its resources with local references, in file-name order."""
    bundles = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    urls = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for b in bundles for e in b["entry"]}
    return [[_rewrite(e["resource"], urls) for e in b["entry"]] for b in bundles]


@pytest.fixture(scope="session")
def synthea_bundles(shared_dir: Path) -> list[list[dict[str, Any]]]:
    return read_bundles(shared_dir / "testdata" / "synthea-r4-bundles")


@pytest.fixture(scope="session")
def synthea(synthea_bundles: list[list[dict[str, Any]]]) -> Synthea:
    found: dict[Key, dict[str, Any]] = {}
    for bundle in synthea_bundles:
        for r in bundle:
            found[(r["resourceType"], r["id"])] = r
    return Synthea(found)


@pytest.fixture(scope="session", params=BACKENDS)
def synthea_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with database_url_for(request.param, tmp_path_factory.mktemp("synthea")) as url:
        yield url


@pytest.fixture(scope="session")
async def synthea_store(
    synthea_url: str, synthea_bundles: list[list[dict[str, Any]]], definitions: Definitions
) -> AsyncIterator[Store]:
    store = open_store(synthea_url, indexer=SearchIndexer(definitions))
    await store.open()
    try:
        for bundle in synthea_bundles:
            async with store.transaction() as tx:
                for resource in bundle:
                    await tx.update(resource["resourceType"], resource["id"], resource)
        yield store
    finally:
        await store.close()


@pytest.fixture
def find(synthea_store: Store, definitions: Definitions) -> Any:
    async def run(rtype: str, params: list[tuple[str, str]]) -> tuple[set[str], set[Key]]:
        request = parse_search(rtype, [*params, ("_count", "1000")], definitions, strict=True)
        result = await search(synthea_store, request)
        assert result.next_offset is None
        return {r.id for r in result.resources}, {(r.resource_type, r.id) for r in result.included}

    return run


# -- plain-Python helpers over the bundle JSON ----------------------------------------------------


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def codings(concept: dict[str, Any] | None) -> set[tuple[str | None, str | None]]:
    return {(c.get("system"), c.get("code")) for c in (concept or {}).get("coding", [])}


def refers(resource: dict[str, Any], field: str, key: str) -> bool:
    value = resource.get(field)
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, dict) and v.get("reference") == key for v in items)


def busiest_patient(data: Synthea) -> str:
    counts = Counter(o["subject"]["reference"] for o in data.of("Observation"))
    return counts.most_common(1)[0][0].split("/")[1]


# -- the searches -----------------------------------------------------------------------------------


async def test_patients_by_name_birth_date_and_gender(synthea: Synthea, find: Any) -> None:
    patients = synthea.of("Patient")
    family = patients[0]["name"][0]["family"][:3]
    expected = {
        p["id"] for p in patients if any(n.get("family", "").lower().startswith(family.lower()) for n in p["name"])
    }
    assert (await find("Patient", [("family", family.upper())]))[0] == expected
    given = patients[1]["name"][0]["given"][0]
    expected = {p["id"] for p in patients if any(given in n.get("given", []) for n in p["name"])}
    assert (await find("Patient", [("name:exact", given)]))[0] == expected

    before_1970 = {p["id"] for p in patients if p["birthDate"] < "1970-01-01"}
    assert (await find("Patient", [("birthdate", "lt1970")]))[0] == before_1970
    eighties_nineties = {p["id"] for p in patients if "1980-01-01" <= p["birthDate"] < "2000-01-01"}
    assert (await find("Patient", [("birthdate", "ge1980-01-01"), ("birthdate", "lt2000")]))[0] == eighties_nineties
    for gender in ("female", "male"):
        assert (await find("Patient", [("gender", gender)]))[0] == {p["id"] for p in patients if p["gender"] == gender}
    women_before_1970 = {p["id"] for p in patients if p["gender"] == "female"} & before_1970
    assert (await find("Patient", [("gender", "female"), ("birthdate", "lt1970")]))[0] == women_before_1970
    assert len(patients) == 25


async def test_a_patients_observations_by_loinc_code_and_date_range(synthea: Synthea, find: Any) -> None:
    pid = busiest_patient(synthea)
    low, high = datetime(2012, 1, 1, tzinfo=UTC), datetime(2018, 7, 1, tzinfo=UTC)
    mine = [o for o in synthea.of("Observation") if refers(o, "subject", f"Patient/{pid}")]
    common = Counter(c for o in mine for s, c in codings(o["code"]) if s == LOINC).most_common(3)
    for code, _ in common:
        expected = {
            o["id"]
            for o in mine
            if (LOINC, code) in codings(o["code"]) and low <= instant(o["effectiveDateTime"]) < high
        }
        params = [("subject", f"Patient/{pid}"), ("code", f"{LOINC}|{code}"), ("date", "ge2012-01-01T00:00:00Z")]
        assert (await find("Observation", [*params, ("date", "lt2018-07-01T00:00:00Z")]))[0] == expected
        assert expected, code
    everything_of_code = {o["id"] for o in mine if (LOINC, "8302-2") in codings(o["code"])}
    assert (await find("Observation", [("patient", pid), ("code", "8302-2")]))[0] == everything_of_code


async def test_encounters_by_class_and_date(synthea: Synthea, find: Any) -> None:
    encounters = synthea.of("Encounter")
    since = datetime(2015, 1, 1, tzinfo=UTC)

    def ends_since(e: dict[str, Any]) -> bool:
        end = e["period"].get("end")
        return end is None or instant(end) >= since

    classes = Counter(e["class"]["code"] for e in encounters)
    for cls in classes:
        expected = {e["id"] for e in encounters if e["class"]["code"] == cls and ends_since(e)}
        assert (await find("Encounter", [("class", f"{ACT}|{cls}"), ("date", "ge2015-01-01T00:00:00Z")]))[0] == expected
    every = {e["id"] for e in encounters if e["class"].get("system") == ACT}
    assert (await find("Encounter", [("class:below", f"{ACT}|_ActEncounterCode")]))[0] == every
    value_set = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"
    assert (await find("Encounter", [("class:in", value_set)]))[0] == every
    assert (await find("Encounter", [("class:not-in", value_set)]))[0] == {e["id"] for e in encounters} - every
    ambulatory = {e["id"] for e in encounters if e["class"]["code"] == "AMB"}
    assert (await find("Encounter", [("class:above", f"{ACT}|AMB")]))[0] == ambulatory


async def test_conditions_by_code(synthea: Synthea, find: Any) -> None:
    conditions = synthea.of("Condition")
    counts = Counter(c for cond in conditions for c in codings(cond["code"]))
    for (system, code), _ in counts.most_common(3):
        expected = {c["id"] for c in conditions if (system, code) in codings(c["code"])}
        assert (await find("Condition", [("code", f"{system}|{code}")]))[0] == expected
    (system, code), _ = counts.most_common(1)[0]
    having = {c["subject"]["reference"].split("/")[1] for c in conditions if (system, code) in codings(c["code"])}
    assert (await find("Patient", [("_has:Condition:subject:code", f"{system}|{code}")]))[0] == having


async def test_include_revinclude_and_chains(synthea: Synthea, find: Any) -> None:
    pid = busiest_patient(synthea)
    subject = f"Patient/{pid}"
    heights = {
        o["id"]
        for o in synthea.of("Observation")
        if refers(o, "subject", subject) and (LOINC, "8302-2") in codings(o["code"])
    }
    found, included = await find(
        "Observation", [("subject", subject), ("code", "8302-2"), ("_include", "Observation:subject")]
    )
    assert found == heights
    assert included == {("Patient", pid)}

    encounters = [e for e in synthea.of("Encounter") if refers(e, "subject", subject)]
    practitioners = {
        ("Practitioner", p["individual"]["reference"].split("/")[1])
        for e in encounters
        for p in e.get("participant", [])
        if p.get("individual", {}).get("reference", "").startswith("Practitioner/")
    }
    _, included = await find("Encounter", [("subject", subject), ("_include", "Encounter:participant")])
    assert included == practitioners and practitioners

    conditions = {("Condition", c["id"]) for c in synthea.of("Condition") if refers(c, "subject", subject)}
    found, included = await find("Patient", [("_id", pid), ("_revinclude", "Condition:subject")])
    assert found == {pid}
    assert included == conditions and conditions
    _, included = await find("Patient", [("_id", pid), ("_revinclude", "Encounter:subject")])
    assert len(included) == len(encounters)

    family = next(p for p in synthea.of("Patient") if p["id"] == pid)["name"][0]["family"]
    namesakes = {p["id"] for p in synthea.of("Patient") if any(n.get("family") == family for n in p["name"])}
    expected = {
        o["id"]
        for o in synthea.of("Observation")
        if o["subject"]["reference"].split("/")[1] in namesakes and (LOINC, "8302-2") in codings(o["code"])
    }
    assert (await find("Observation", [("subject:Patient.family:exact", family), ("code", "8302-2")]))[0] == expected


async def test_everything_of_a_patient(synthea: Synthea, synthea_store: Store, definitions: Definitions) -> None:
    pid = busiest_patient(synthea)
    subject = f"Patient/{pid}"
    linked = {
        (r["resourceType"], r["id"])
        for r in synthea.resources.values()
        if any(refers(r, field, subject) for field in ("subject", "patient"))
    }
    found = {(r.resource_type, r.id) for r in await everything(synthea_store, definitions, "Patient", pid)}
    assert ("Patient", pid) in found
    assert linked <= found
    assert len(linked) > 100
