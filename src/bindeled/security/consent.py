"""Citizens' blocks and positive consents as FHIR ``Consent`` resources (how administrators manage them).

One ``Consent`` (scope ``patient-privacy``) holds one directive, or several as nested provisions.
``provision.type`` ``deny`` is a block, ``permit`` a positive consent. Who or what it concerns:

* ``provision.actor.reference.identifier`` with the authorisation system (``https://autregweb.sst.dk``)
  or a user id: a named professional (person block / consent for that professional);
* ``…identifier`` with the SOR system: a treatment place (organisation block / consent), with sub-units
  when the provision carries the extension :data:`INCLUDE_SUBUNITS` = true;
* no actor and a ``provision.dataPeriod``: a period block (data whose service time falls inside);
* no actor and no data period: everything (a phone or paper block), limited to the resource types in
  ``provision.class`` when given.

A top-level ``permit`` without an actor is the base policy (everything is shared) and only carries
the nested exceptions. ``provision.period`` is the directive's own validity; ``Consent.status``
``active`` makes it count.
Malformed directives are refused with ``invalid_consent_directive`` (422), naming the element.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from ..errors import Unprocessable
from ..fhir.jsonio import Resource
from .facts import CPR_SYSTEM, SOR_SYSTEM, Resolver
from .registers import Block, Consent, Period

__all__ = ["AUTHORISATION_SYSTEM", "INCLUDE_SUBUNITS", "USER_SYSTEM", "directives_from_consent"]

AUTHORISATION_SYSTEM = "https://autregweb.sst.dk"
USER_SYSTEM = "urn:bindeled:user"
INCLUDE_SUBUNITS = "urn:bindeled:fhir:StructureDefinition/include-subunits"


def _invalid(message: str, location: str) -> Unprocessable:
    return Unprocessable(message, details_code="invalid_consent_directive", location=(location,))


def _instant(value: Any, location: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00+00:00")
    except (TypeError, ValueError) as exc:
        raise _invalid("A period boundary is not a dateTime", location) from exc
    if moment.tzinfo is None:
        raise _invalid("A period boundary needs a time zone", location)
    return moment


def _period(value: Any, location: str) -> Period | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid("A period must be a Period", location)
    try:
        return Period(_instant(value.get("start"), location), _instant(value.get("end"), location))
    except ValueError as exc:
        raise _invalid("A period ends before it starts", location) from exc


def _citizen(resource: Resource, citizen_of: Resolver) -> str:
    patient = resource.get("patient")
    found = None
    if isinstance(patient, dict):
        identifier = patient.get("identifier")
        if isinstance(identifier, dict) and identifier.get("system") == CPR_SYSTEM:
            found = identifier.get("value")
        elif isinstance(patient.get("reference"), str):
            found = citizen_of(patient["reference"])
    if not isinstance(found, str):
        raise _invalid("The Consent must name a known citizen", "Consent.patient")
    return found


def _provisions(provision: Mapping[str, Any], path: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    yield provision, path
    for i, inner in enumerate(provision.get("provision", [])):
        yield from _provisions(inner, f"{path}.provision[{i}]")


def _actor(provision: Mapping[str, Any], path: str) -> tuple[str, str] | None:
    """(kind, value): ``person`` with a professional id, or ``organisation`` with a SOR code."""
    actors = provision.get("actor", [])
    if not actors:
        return None
    if len(actors) != 1:
        raise _invalid("A provision names one actor", f"{path}.actor")
    identifier = actors[0].get("reference", {}).get("identifier", {})
    system, value = identifier.get("system"), identifier.get("value")
    if not isinstance(value, str) or not value:
        raise _invalid("The actor must be given by identifier", f"{path}.actor[0].reference.identifier")
    if system == SOR_SYSTEM:
        return "organisation", value
    if system in (AUTHORISATION_SYSTEM, USER_SYSTEM):
        return "person", value
    raise _invalid("The actor must be a professional or a SOR unit", f"{path}.actor[0].reference.identifier")


def _subunits(provision: Mapping[str, Any]) -> bool:
    return any(
        e.get("url") == INCLUDE_SUBUNITS and e.get("valueBoolean") is True for e in provision.get("extension", [])
    )


def _classes(provision: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(c["code"] for c in provision.get("class", []) if isinstance(c, dict) and "code" in c)


def _block(ident: str, citizen: str, provision: Mapping[str, Any], path: str, active: bool) -> Block:
    actor, valid = _actor(provision, path), _period(provision.get("period"), f"{path}.period") or Period()
    common: dict[str, Any] = {"id": ident, "citizen": citizen, "valid": valid, "active": active}
    if actor is not None and actor[0] == "person":
        return Block(kind="person", professional_id=actor[1], **common)
    if actor is not None:
        return Block(kind="organisation", organisation_sor=actor[1], include_subunits=_subunits(provision), **common)
    data = _period(provision.get("dataPeriod"), f"{path}.dataPeriod")
    if data is not None:
        return Block(kind="period", service_period=data, **common)
    return Block(kind="all", resource_types=_classes(provision), **common)


def _consent(ident: str, citizen: str, provision: Mapping[str, Any], path: str, active: bool) -> Consent:
    actor = _actor(provision, path)
    if actor is None:
        raise _invalid("A positive consent names a professional or a SOR unit", f"{path}.actor")
    valid = _period(provision.get("period"), f"{path}.period") or Period()
    if actor[0] == "person":
        return Consent(ident, citizen, professional_id=actor[1], valid=valid, active=active)
    return Consent(ident, citizen, organisation_sor=actor[1], valid=valid, active=active)


def directives_from_consent(resource: Resource, citizen_of: Resolver) -> tuple[list[Block], list[Consent]]:
    """The blocks and positive consents one ``Consent`` resource holds."""
    if resource.get("resourceType") != "Consent" or not isinstance(resource.get("provision"), dict):
        raise _invalid("A directive is a Consent with a provision", "Consent.provision")
    citizen, active = _citizen(resource, citizen_of), resource.get("status") == "active"
    blocks: list[Block] = []
    consents: list[Consent] = []
    for index, (provision, path) in enumerate(_provisions(resource["provision"], "Consent.provision")):
        ident = f"{resource.get('id', 'new')}#{index}"
        kind = provision.get("type", "deny" if index == 0 else None)
        if kind == "deny":
            blocks.append(_block(ident, citizen, provision, path, active))
        elif kind == "permit" and index == 0 and not provision.get("actor"):
            continue  # the base policy "everything is shared", with deny exceptions nested below
        elif kind == "permit":
            consents.append(_consent(ident, citizen, provision, path, active))
        elif kind is not None:
            raise _invalid("provision.type is deny or permit", f"{path}.type")
    return blocks, consents
