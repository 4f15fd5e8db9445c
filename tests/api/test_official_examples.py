"""Every valid official R4 example loads through the API and reads back equal, in JSON and in XML."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.fhir.xmlio import resource_to_xml, xml_to_resource

_SERVER_SET = ("id", "meta")


def _examples(shared_dir: Path) -> list[Path]:
    return sorted((shared_dir / "testdata" / "fhir-r4-examples").glob("*.json"))


def _comparable(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without what the server sets (meta.versionId / lastUpdated)."""
    out = dict(resource)
    meta = {k: v for k, v in out.pop("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        out["meta"] = meta
    return out


def _same(a: Any, b: Any) -> bool:
    """Semantic equality: decimals compare by value and precision as text."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return str(a) == str(b)
    return bool(a == b) and type(a) is type(b)


@pytest.mark.slow
def test_valid_examples_round_trip(client: httpx.Client, shared_dir: Path, definitions: Definitions) -> None:
    validator = Validator(definitions)
    loaded = skipped = 0
    for path in _examples(shared_dir):
        original = jsonio.decode(path.read_bytes())
        if any(i.is_error for i in validator.validate(original)):
            skipped += 1
            continue
        type_, id_ = original["resourceType"], original.get("id")
        if id_ is None:
            continue
        put = client.put(
            f"/{type_}/{id_}", content=path.read_bytes(), headers={"Content-Type": "application/fhir+json"}
        )
        assert put.status_code in (200, 201), (path.name, put.text[:1000])
        as_json = jsonio.decode(client.get(f"/{type_}/{id_}").content)
        assert _same(_comparable(as_json), _comparable(original)), path.name
        as_xml = client.get(f"/{type_}/{id_}", headers={"Accept": "application/fhir+xml"})
        assert as_xml.headers["content-type"].startswith("application/fhir+xml")
        assert _same(_comparable(xml_to_resource(as_xml.content, definitions)), _comparable(original)), path.name
        loaded += 1
    assert loaded > 550, (loaded, skipped)


def test_xml_create_and_read(client: httpx.Client, definitions: Definitions) -> None:
    resource = {"resourceType": "Patient", "name": [{"family": "Ærø", "given": ["Åse", "Øjvind"]}], "gender": "female"}
    xml = resource_to_xml(resource, definitions)
    created = client.post(
        "/Patient", content=xml, headers={"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/fhir+xml")
    back = xml_to_resource(created.content, definitions)
    assert back["name"] == resource["name"]
    id_ = back["id"]
    via_format = client.get(f"/Patient/{id_}?_format=xml")
    assert via_format.content.lstrip().startswith(b"<?xml")
    assert json.loads(client.get(f"/Patient/{id_}?_format=json").content)["id"] == id_


def test_malformed_xml_is_400(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/fhir+xml"}
    for body in (
        b"<Patient",
        b'<Patient xmlns="http://hl7.org/fhir"><colour value="x"/></Patient>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"/>',
    ):
        response = client.post("/Patient", content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["resourceType"] == "OperationOutcome"
