"""The SOR tree rebuilt from the register's stored FHIR Organizations, for roll-ups and readiness checks.

A running server keeps the SOR register as DK-core Organizations (``registry/fhir.py``), not as the
export it was imported from. The indicators need the tree's structure (owner → institution → units),
each entity's *own* GLN, phone and municipality code, and whether it is active; all of that is in the
Organizations. Levels follow from depth (owners have no ``partOf``, institutions sit directly under an
owner). Values marked as inherited (``INHERITED_FROM``) are left out, so the tree resolves inheritance
itself exactly as the register does. An Organization whose parent is missing is left out with its
subtree (a partial register must not fail a page).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import date
from typing import Any

from ..fhir.jsonio import Resource
from ..registry.fhir import INHERITED_FROM, MUNICIPALITY_SYSTEM, SOR_SYSTEM, YDERNUMMER_SYSTEM
from ..registry.gln import GLN_SYSTEM
from ..registry.model import Contact, EanLocation, Level, SorEntity, Validity
from ..registry.tree import SorTree
from ..store.repository import Repository

__all__ = ["read_organizations", "sor_tree_from_organizations"]

_ENDED = Validity(to_date=date.min)
"""The validity given to an Organization that is not ``active``: ended before any day asked about."""


def _identifier(resource: Resource, system: str) -> str | None:
    for identifier in resource.get("identifier", []):
        if isinstance(identifier, dict) and identifier.get("system") == system and identifier.get("value"):
            return str(identifier["value"])
    return None


def _own(point: Any) -> bool:
    extensions = point.get("extension", []) if isinstance(point, dict) else []
    return not any(isinstance(e, dict) and e.get("url") == INHERITED_FROM for e in extensions)


def _own_telecom(resource: Resource, system: str) -> str | None:
    for point in resource.get("telecom", []):
        if isinstance(point, dict) and point.get("system") == system and point.get("value") and _own(point):
            return str(point["value"])
    return None


_MISSING = "missing parent"
"""The parent key of an Organization whose ``partOf`` names one not given: never reached from a root."""


def _parent_sor(resource: Resource, sor_by_id: dict[str, str]) -> str | None:
    reference = resource.get("partOf", {}).get("reference", "")
    return sor_by_id.get(str(reference).removeprefix("Organization/"), _MISSING) if reference else None


def _entity(resource: Resource, sor: str, parent: str | None, level: Level) -> SorEntity:
    gln = _identifier(resource, GLN_SYSTEM)
    return SorEntity(
        sor_code=sor,
        level=level,
        name=str(resource.get("name", sor)),
        parent=parent,
        ydernummer=_identifier(resource, YDERNUMMER_SYSTEM),
        municipality_code=_identifier(resource, MUNICIPALITY_SYSTEM),
        ean=EanLocation(gln) if gln else None,
        contact=Contact(phone=_own_telecom(resource, "phone"), email=_own_telecom(resource, "email")),
        validity=Validity() if resource.get("active", True) else _ENDED,
        type_code=_type_code(resource),
    )


def _type_code(resource: Resource) -> str | None:
    for concept in resource.get("type", []):
        for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("code"):
                return str(coding["code"])
    return None


def sor_tree_from_organizations(organizations: Iterable[Resource]) -> SorTree:
    """The tree of the SOR Organizations given (others, without a SOR code, are ignored)."""
    by_sor: dict[str, Resource] = {}
    sor_by_id: dict[str, str] = {}
    for resource in organizations:
        sor = _identifier(resource, SOR_SYSTEM)
        if sor is not None:
            by_sor[sor] = resource
            sor_by_id[str(resource.get("id"))] = sor
    parents = {sor: _parent_sor(resource, sor_by_id) for sor, resource in by_sor.items()}
    children: dict[str | None, list[str]] = {}
    for sor, parent in parents.items():
        children.setdefault(parent, []).append(sor)
    entities: list[SorEntity] = []
    frontier = deque((sor, 0) for sor in sorted(children.get(None, [])))
    while frontier:
        sor, depth = frontier.popleft()
        level = Level.OWNER if depth == 0 else Level.INSTITUTION if depth == 1 else Level.UNIT
        entities.append(_entity(by_sor[sor], sor, parents[sor], level))
        frontier.extend((child, depth + 1) for child in sorted(children.get(sor, [])))
    return SorTree(entities)


async def read_organizations(repo: Repository, page: int = 1000) -> list[Resource]:
    """Every Organization the current request may see (the register's), following the search pages."""
    found: list[Resource] = []
    offset = 0
    while True:
        _request, result = await repo.search("Organization", [("_count", str(page)), ("_offset", str(offset))])
        found += [r.resource() for r in result.resources]
        if result.next_offset is None or not result.resources:
            return found
        offset = result.next_offset
