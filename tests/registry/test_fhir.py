"""The SOR tree as DK-core Organization, Location and Endpoint resources."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.jsonio import decode, encode
from bindeled.fhir.validation import Validator
from bindeled.registry import SorExport, SorTree, tree_resources
from bindeled.registry.fhir import (
    INHERITED_FROM,
    SHAK_SYSTEM,
    SOR_SYSTEM,
    SYNTHETIC_TAG,
    YDERNUMMER_SYSTEM,
    to_endpoint,
    to_location,
    to_organization,
)
from bindeled.registry.gln import GLN_SYSTEM
from bindeled.registry.model import EanLocation

DK_CORE = "standards/fhir-packages/hl7.fhir.dk.core#3.4.0"
DAY = date(2010, 1, 26)


@pytest.fixture(scope="module")
def dk_validator(definitions: Definitions, shared_dir: Path) -> Validator:
    validator = Validator(definitions)
    validator.add_package(shared_dir / DK_CORE)
    return validator


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.is_error]


def identifier(resource: dict[str, Any], system: str) -> str | None:
    return next((i["value"] for i in resource.get("identifier", []) if i["system"] == system), None)


def test_samples_are_valid_dk_core(
    dk_validator: Validator, sygehus: SorExport, praksis: SorExport, apotek: SorExport
) -> None:
    for export in (sygehus, praksis, apotek):
        for resource in tree_resources(SorTree.from_export(export), DAY):
            assert errors(dk_validator.validate(resource)) == [], resource["id"]


def test_synthetic_region_is_valid_dk_core(dk_validator: Validator, region: SorTree) -> None:
    resources = list(tree_resources(region, date(2026, 1, 1)))
    sample = resources[:: max(1, len(resources) // 150)]
    for resource in sample:
        assert errors(dk_validator.validate(resource)) == [], resource["id"]
        assert SYNTHETIC_TAG in resource["meta"]["tag"]


def test_hospital_section(sygehus: SorExport) -> None:
    tree = SorTree.from_export(sygehus)
    org = to_organization(tree, "347831000016005", DAY)
    assert org["id"] == "sor-347831000016005"
    assert org["meta"] == {"profile": ["http://hl7.dk/fhir/core/StructureDefinition/dk-core-organization"]}
    assert identifier(org, SOR_SYSTEM) == "347831000016005"
    assert identifier(org, SHAK_SYSTEM) == "2529010"
    assert org["partOf"] == {"reference": "Organization/sor-347821000016008"}
    assert org["active"] is True
    assert org["type"][0]["coding"][0]["code"] == "550851000005109"
    phone = next(t for t in org["telecom"] if t["system"] == "phone")
    assert phone["value"] == "46361266"
    assert phone["extension"] == [
        {"url": INHERITED_FROM, "valueReference": {"reference": "Organization/sor-347801000016001"}}
    ]
    (address,) = org["address"]
    assert address["type"] == "both"
    assert address["line"] == ["Hestetorvet 8"]
    assert (address["postalCode"], address["city"], address["country"]) == ("4000", "Roskilde", "DK")
    assert "endpoint" not in org
    owner = to_organization(tree, "347801000016001", DAY)
    assert "extension" not in owner["telecom"][0]
    assert "partOf" not in owner


def test_locations(sygehus: SorExport) -> None:
    tree = SorTree.from_export(sygehus)
    assert to_location(tree, "347801000016001", DAY) is None
    hospital = to_location(tree, "347811000016004", DAY)
    assert hospital is not None and "partOf" not in hospital
    section = to_location(tree, "347831000016005", DAY)
    assert section is not None
    assert section["partOf"] == {"reference": "Location/sor-347821000016008"}
    assert section["managingOrganization"] == {"reference": "Organization/sor-347831000016005"}
    assert section["status"] == "active"
    assert section["address"]["type"] == "physical"
    closed = to_location(tree, "347831000016005", date(2009, 1, 1))
    assert closed is not None and closed["status"] == "inactive"


def test_practice_endpoint_and_ydernummer(praksis: SorExport) -> None:
    tree = SorTree.from_export(praksis)
    unit = to_organization(tree, "8341000016002", DAY)
    assert identifier(unit, YDERNUMMER_SYSTEM) == "019062"
    assert identifier(unit, GLN_SYSTEM) is None
    assert unit["endpoint"] == [{"reference": "Endpoint/gln-5790000141227"}]
    owner = to_organization(tree, "8321000016007", DAY)
    assert identifier(owner, GLN_SYSTEM) == "5790000141227"
    entity = tree["8321000016007"]
    assert entity.ean is not None
    endpoint = to_endpoint(tree, entity.sor_code, entity.ean, DAY)
    assert endpoint["id"] == "gln-5790000141227"
    assert endpoint["identifier"] == [{"system": GLN_SYSTEM, "value": "5790000141227"}]
    assert endpoint["status"] == "active"
    assert endpoint["managingOrganization"] == {"reference": "Organization/sor-8321000016007"}
    assert "meta" not in endpoint
    inactive = to_endpoint(tree, entity.sor_code, EanLocation("5790000141227", non_active=True), DAY)
    assert inactive["status"] == "off"


def test_resources_are_deterministic_and_plain_json(apotek: SorExport, sor_dir: Path) -> None:
    from bindeled.registry import load_export

    first = list(tree_resources(SorTree.from_export(apotek), DAY))
    again = list(tree_resources(SorTree.from_export(load_export(sor_dir / "ONE_APOTEK.xml")), DAY))
    assert first == again
    assert [(r["resourceType"], r["id"]) for r in first] == [
        ("Organization", "sor-306011000016003"),
        ("Endpoint", "gln-5790000173624"),
        ("Organization", "sor-306021000016007"),
        ("Location", "sor-306021000016007"),
        ("Organization", "sor-306031000016009"),
        ("Location", "sor-306031000016009"),
    ]
    assert all(decode(encode(r)) == r for r in first)
