"""The SOR tree as FHIR R4 resources: DK-core Organization and Location, and an Endpoint per GLN.

Ids are derived from the register's own codes, so importing a newer export updates the same
resources instead of creating new ones: ``Organization/sor-<SOR code>``, ``Location/sor-<SOR code>``
and ``Endpoint/gln-<GLN>``.

* **Organization** (every entity): SOR-ID, its own EAN-ID, Ydernummer, Kommunekode/Regionskode in the
  DK-core identifier systems; SHAK and pharmacy numbers, which DK-core names no system for, in
  bindeled's own systems. ``partOf`` is the organisational parent; ``endpoint`` the GLN that messages
  to the entity are delivered to (own or inherited).
* **Location** (institutions and units): the resolved activity address and phone, ``managingOrganization``
  the entity's Organization and ``partOf`` the parent's Location.
* **Endpoint** (each EAN location): the GLN mailbox, managed by the entity that defines it.

Values a unit inherits carry the extension :data:`INHERITED_FROM` pointing at the Organization the
value belongs to, so a reader can tell own from inherited data (DOMAIN.md rule 2.2).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from ..fhir.jsonio import Resource
from .gln import GLN_SYSTEM
from .model import Address, EanLocation, Level, SorEntity
from .tree import Inherited, SorTree

__all__ = [
    "INHERITED_FROM",
    "MUNICIPALITY_SYSTEM",
    "PHARMACY_SYSTEM",
    "REGION_SYSTEM",
    "SHAK_SYSTEM",
    "SOR_SYSTEM",
    "SYNTHETIC_TAG",
    "YDERNUMMER_SYSTEM",
    "endpoint_id",
    "entity_resources",
    "location_id",
    "organization_id",
    "to_endpoint",
    "to_location",
    "to_organization",
    "tree_resources",
]

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
YDERNUMMER_SYSTEM = "urn:oid:1.2.208.176.1.4"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
REGION_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-regional-subdivision-codes"
SHAK_SYSTEM = "https://bindeled.dk/fhir/NamingSystem/shak"
"""bindeled's own: DK-core defines no identifier system for SHAK codes."""
PHARMACY_SYSTEM = "https://bindeled.dk/fhir/NamingSystem/apoteksnummer"
"""bindeled's own: DK-core defines no identifier system for pharmacy numbers."""
INHERITED_FROM = "https://bindeled.dk/fhir/StructureDefinition/sor-inherited-from"
SNOMED = "http://snomed.info/sct"
SNOMED_DK = "http://snomed.info/sct/554471000005108"
"""The Danish SNOMED CT extension, in which SOR's type codes live."""
ORGANIZATION_PROFILE = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-organization"
LOCATION_PROFILE = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-location"
SYNTHETIC_TAG = {
    "system": "https://bindeled.dk/fhir/CodeSystem/data-origin",
    "code": "SYNTHETIC",
    "display": "Synthetic demo data",
}


def organization_id(sor_code: str) -> str:
    return f"sor-{sor_code}"


def location_id(sor_code: str) -> str:
    return f"sor-{sor_code}"


def endpoint_id(gln: str) -> str:
    return f"gln-{gln}"


def _meta(profile: str | None, synthetic: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"profile": [profile]} if profile else {}
    if synthetic:
        meta["tag"] = [dict(SYNTHETIC_TAG)]
    return meta


def _identifiers(entity: SorEntity) -> list[dict[str, Any]]:
    ids: list[dict[str, Any]] = [{"use": "official", "system": SOR_SYSTEM, "value": entity.sor_code}]
    pairs = [
        (GLN_SYSTEM, entity.ean.gln if entity.ean else None),
        (YDERNUMMER_SYSTEM, entity.ydernummer),
        (SHAK_SYSTEM, entity.shak),
        (PHARMACY_SYSTEM, entity.pharmacy_id),
        (MUNICIPALITY_SYSTEM, entity.municipality_code),
        (REGION_SYSTEM, _region(entity.region_code)),
    ]
    ids.extend({"system": system, "value": value} for system, value in pairs if value)
    return ids


def _region(code: str | None) -> str | None:
    """SOR's region codes 1081–1085 as DK-core's ISO 3166-2 codes DK-81 … DK-85."""
    if code is None:
        return None
    return f"DK-{code[2:]}" if len(code) == 4 and code.startswith("108") else code


def _mark(element: dict[str, Any], value: Inherited[Any]) -> dict[str, Any]:
    if value.inherited:
        element["extension"] = [
            {"url": INHERITED_FROM, "valueReference": {"reference": f"Organization/{organization_id(value.source)}"}}
        ]
    return element


def _address(value: Inherited[Address], kind: str) -> dict[str, Any]:
    address = value.value
    out: dict[str, Any] = {"use": "work", "type": kind}
    parts = {
        "line": list(address.lines()),
        "city": address.district_name,
        "postalCode": address.postcode,
        "country": address.country,
    }
    out.update({k: v for k, v in parts.items() if v})
    return _mark(out, value)


def _telecom(tree: SorTree, sor_code: str) -> list[dict[str, Any]]:
    resolved = tree.resolve(sor_code)
    pairs = [("phone", resolved.phone), ("fax", resolved.fax), ("email", resolved.email), ("url", resolved.website)]
    return [_mark({"system": system, "value": v.value, "use": "work"}, v) for system, v in pairs if v is not None]


def _type(entity: SorEntity) -> list[dict[str, Any]]:
    if entity.type_code is None:
        return []
    return [{"coding": [{"system": SNOMED, "version": SNOMED_DK, "code": entity.type_code}]}]


def _active(entity: SorEntity, tree: SorTree, on: date) -> bool:
    return all(e.validity.is_active(on) for e in tree.lineage(entity.sor_code))


def _put(resource: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only to a non-empty value (FHIR JSON has no nulls and no empty arrays)."""
    if value:
        resource[key] = value


def to_organization(tree: SorTree, sor_code: str, on: date) -> Resource:
    """The DK-core Organization for one entity; ``active`` says whether it is valid on ``on``."""
    entity = tree[sor_code]
    resolved = tree.resolve(sor_code)
    resource: dict[str, Any] = {"resourceType": "Organization", "id": organization_id(sor_code)}
    resource["meta"] = _meta(ORGANIZATION_PROFILE, tree.synthetic)
    resource["identifier"] = _identifiers(entity)
    resource["active"] = _active(entity, tree, on)
    _put(resource, "type", _type(entity))
    resource["name"] = entity.name
    _put(resource, "telecom", _telecom(tree, sor_code))
    addresses = [(resolved.postal_address, "postal"), (resolved.visiting_address, "physical")]
    _put(resource, "address", _dedupe([_address(a, kind) for a, kind in addresses if a is not None]))
    if entity.parent is not None:
        resource["partOf"] = {"reference": f"Organization/{organization_id(entity.parent)}"}
    if resolved.ean is not None:
        resource["endpoint"] = [{"reference": f"Endpoint/{endpoint_id(resolved.ean.value.gln)}"}]
    return resource


def _dedupe(addresses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One address of type ``both`` when the postal and visiting address are the same."""
    if len(addresses) == 2 and {**addresses[0], "type": ""} == {**addresses[1], "type": ""}:
        return [{**addresses[0], "type": "both"}]
    return addresses


def to_location(tree: SorTree, sor_code: str, on: date) -> Resource | None:
    """The DK-core Location where an institution or unit works; None for an owner."""
    entity = tree[sor_code]
    if entity.level is Level.OWNER:
        return None
    resolved = tree.resolve(sor_code)
    resource: dict[str, Any] = {"resourceType": "Location", "id": location_id(sor_code)}
    resource["meta"] = _meta(LOCATION_PROFILE, tree.synthetic)
    resource["identifier"] = [{"use": "official", "system": SOR_SYSTEM, "value": sor_code}]
    resource["status"] = "active" if _active(entity, tree, on) else "inactive"
    resource["name"] = entity.name
    resource["mode"] = "instance"
    _put(resource, "type", _type(entity))
    _put(resource, "telecom", _telecom(tree, sor_code))
    if resolved.activity_address is not None:
        resource["address"] = _address(resolved.activity_address, "physical")
    resource["managingOrganization"] = {"reference": f"Organization/{organization_id(sor_code)}"}
    parent = tree.parent(sor_code)
    if parent is not None and parent.level is not Level.OWNER:
        resource["partOf"] = {"reference": f"Location/{location_id(parent.sor_code)}"}
    return resource


def to_endpoint(tree: SorTree, sor_code: str, ean: EanLocation, on: date) -> Resource:
    """The Endpoint for an EAN location: MedCom messages to this GLN."""
    resource: dict[str, Any] = {"resourceType": "Endpoint", "id": endpoint_id(ean.gln)}
    _put(resource, "meta", _meta(None, tree.synthetic))
    resource["identifier"] = [{"system": GLN_SYSTEM, "value": ean.gln}]
    resource["status"] = "active" if ean.is_receiving(on) and _active(tree[sor_code], tree, on) else "off"
    resource["connectionType"] = {
        "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
        "code": "hl7-fhir-msg",
    }
    resource["name"] = f"EAN {ean.gln}"
    resource["managingOrganization"] = {"reference": f"Organization/{organization_id(sor_code)}"}
    resource["payloadType"] = [{"text": "MedCom messages"}]
    resource["address"] = f"urn:oid:1.3.88.{ean.gln}"
    return resource


def entity_resources(tree: SorTree, sor_code: str, on: date) -> Iterator[Resource]:
    """The Organization, Location (not for owners) and Endpoint (with an own EAN) of one entity."""
    yield to_organization(tree, sor_code, on)
    location = to_location(tree, sor_code, on)
    if location is not None:
        yield location
    ean = tree[sor_code].ean
    if ean is not None:
        yield to_endpoint(tree, sor_code, ean, on)


def tree_resources(tree: SorTree, on: date) -> Iterator[Resource]:
    """Every resource for the tree, parents before children (Organizations, Locations, Endpoints)."""
    for entity in tree:
        yield from entity_resources(tree, entity.sor_code, on)
