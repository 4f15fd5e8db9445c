"""Subsumption over the code systems in the definitions: ``:below``, ``:above`` and value-set filters."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from bindeled.errors import InvalidRequest, UnsupportedParameter
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.search import Criterion, ReferenceQuery, TokenQuery, parse_search
from bindeled.fhir.search.hierarchy import hierarchy_for
from bindeled.fhir.search.valuesets import expand

ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_CLASSES = {"ACUTE", "AMB", "EMER", "FLD", "HH", "IMP", "NONAC", "OBSENC", "PRENC", "SS", "VR"}


def fake(code_systems: dict[str, Any], value_sets: dict[str, Any] | None = None) -> Definitions:
    return cast(Definitions, SimpleNamespace(code_systems=code_systems, value_sets=value_sets or {}))


TREE = {
    "url": "urn:test:tree",
    "hierarchyMeaning": "is-a",
    "content": "complete",
    "concept": [
        {"code": "animal", "concept": [{"code": "dog", "concept": [{"code": "puppy"}]}, {"code": "cat"}]},
        {"code": "kitten", "property": [{"code": "parent", "valueCode": "cat"}]},
        {"code": "plant"},
    ],
}


def test_nesting_and_parent_properties() -> None:
    tree = hierarchy_for(fake({"urn:test:tree": TREE}), "urn:test:tree", location="code")
    assert tree.descendants("animal") == {"dog", "puppy", "cat", "kitten"}
    assert tree.descendants("cat") == {"kitten"}
    assert tree.ancestors("puppy") == {"dog", "animal"}
    assert tree.ancestors("kitten") == {"cat", "animal"}
    assert tree.descendants("plant") == set() == tree.ancestors("plant")


@pytest.mark.parametrize(
    "system",
    [
        {"url": "urn:x", "hierarchyMeaning": "grouped-by", "concept": []},
        {"url": "urn:x", "hierarchyMeaning": "is-a", "content": "fragment", "concept": []},
    ],
)
def test_refused_without_a_complete_is_a_hierarchy(system: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedParameter):
        hierarchy_for(fake({"urn:x": system}), "urn:x", location="code")
    with pytest.raises(UnsupportedParameter):
        hierarchy_for(fake({}), "urn:unknown", location="code")


def test_value_set_filters_and_excludes() -> None:
    def filtered(op: str, value: str, **extra: Any) -> dict[str, Any]:
        include = {"system": "urn:test:tree", "filter": [{"property": "concept", "op": op, "value": value}]}
        return {"compose": {"include": [include], **extra}}

    no_animal = [{"system": "urn:test:tree", "concept": [{"code": "animal"}]}]
    no_plant_dog = [{"system": "urn:test:tree", "concept": [{"code": "plant"}, {"code": "dog"}]}]
    vs = {
        "urn:vs:pets": filtered("is-a", "animal", exclude=no_animal),
        "urn:vs:young": filtered("in", "puppy,kitten"),
        "urn:vs:above": filtered("generalizes", "puppy"),
        "urn:vs:not": filtered("is-not-a", "animal"),
        "urn:vs:below": filtered("descendent-of", "dog"),
        "urn:vs:whole-less": {"compose": {"include": [{"system": "urn:test:tree"}], "exclude": no_plant_dog}},
        "urn:vs:regex": filtered("regex", "p.*"),
    }
    defs = fake({"urn:test:tree": TREE}, vs)

    def codes(url: str) -> set[str | None]:
        return {c for _, c in expand(url, defs, location="code:in")}

    assert codes("urn:vs:pets") == {"dog", "puppy", "cat", "kitten"}
    assert codes("urn:vs:young") == {"puppy", "kitten"}
    assert codes("urn:vs:above") == {"puppy", "dog", "animal"}
    assert codes("urn:vs:not") == {"plant"}
    assert codes("urn:vs:below") == {"puppy"}
    assert codes("urn:vs:whole-less") == {"animal", "puppy", "cat", "kitten"}
    with pytest.raises(UnsupportedParameter):
        expand("urn:vs:regex", defs, location="code:in")


def token(definitions: Definitions, rtype: str, name: str, value: str) -> TokenQuery:
    cond = parse_search(rtype, [(name, value)], definitions, strict=True).conditions[0]
    assert isinstance(cond, Criterion)
    found = cond.values[0]
    assert isinstance(found, TokenQuery)
    return found


def test_below_and_above_in_the_official_act_codes(definitions: Definitions) -> None:
    below = token(definitions, "Encounter", "class:below", f"{ACT}|_ActEncounterCode")
    assert {c for _, c in below.codes} == ENCOUNTER_CLASSES | {"_ActEncounterCode"}
    above = token(definitions, "Encounter", "class:above", f"{ACT}|IMP")
    assert {c for _, c in above.codes} == {"IMP", "_ActEncounterCode", "_ActCareProvisionCode"}
    assert {s for s, _ in above.codes} == {ACT}
    expanded = token(definitions, "Encounter", "class:in", "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode")
    assert {c for _, c in expanded.codes} == ENCOUNTER_CLASSES


def test_below_needs_a_known_code_in_a_known_system(definitions: Definitions) -> None:
    with pytest.raises(InvalidRequest):
        token(definitions, "Encounter", "class:below", "IMP")
    with pytest.raises(InvalidRequest):
        token(definitions, "Encounter", "class:below", f"{ACT}|NOT-A-CODE")
    with pytest.raises(UnsupportedParameter):
        token(definitions, "Observation", "code:below", "http://loinc.org|8867-4")


def test_own_base_url_means_a_local_reference(definitions: Definitions) -> None:
    base = "https://fhir.example.dk/fhir"

    def ref(value: str, base_url: str | None) -> ReferenceQuery:
        cond = parse_search("Observation", [("subject", value)], definitions, strict=True, base_url=base_url)
        assert isinstance(cond.conditions[0], Criterion)
        found = cond.conditions[0].values[0]
        assert isinstance(found, ReferenceQuery)
        return found

    assert ref(f"{base}/Patient/123", base) == ReferenceQuery("Patient", "123")
    assert ref(f"{base}/Patient/123/_history/2", base + "/") == ReferenceQuery("Patient", "123")
    assert ref(f"{base}/Patient/123", None).url == f"{base}/Patient/123"
    assert ref("https://other.example.dk/fhir/Patient/123", base).url == "https://other.example.dk/fhir/Patient/123"
