"""Which municipality a SOR unit belongs to, from the register's FHIR Organizations.

The register gives each entity its own municipality code (an identifier in DK-core's municipality
code system); a unit without one takes its nearest ancestor's (``partOf``). The municipality's name
is that of the owner (the top of the tree) carrying the code, else the code itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..fhir.jsonio import Resource
from ..registry.fhir import MUNICIPALITY_SYSTEM
from ..security.facts import SOR_SYSTEM

__all__ = ["MunicipalityIndex"]


def _identifier(resource: Resource, system: str) -> str | None:
    for identifier in resource.get("identifier", []):
        if isinstance(identifier, dict) and identifier.get("system") == system and identifier.get("value"):
            return str(identifier["value"])
    return None


@dataclass
class MunicipalityIndex:
    """SOR code → (municipality code, name)."""

    _by_sor: dict[str, str] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_organizations(cls, organizations: Iterable[Resource]) -> MunicipalityIndex:
        by_id: dict[str, Resource] = {str(o.get("id")): o for o in organizations}
        index = cls()
        size: dict[str, int] = {}
        for resource in by_id.values():
            sor = _identifier(resource, SOR_SYSTEM)
            found = cls._walk(resource, by_id)
            if sor is not None and found is not None:
                index._by_sor[sor] = found
            root = cls._root(resource, by_id)
            size[str(root.get("id"))] = size.get(str(root.get("id")), 0) + 1
        best: dict[str, int] = {}
        for ident, count in size.items():
            root = by_id[ident]
            code = _identifier(root, MUNICIPALITY_SYSTEM)
            if code is not None and count > best.get(code, 0):
                best[code] = count
                index._names[code] = str(root.get("name", code))
        return index

    @staticmethod
    def _root(resource: Resource, by_id: dict[str, Resource]) -> Resource:
        seen: set[str] = set()
        current = resource
        while str(current.get("id")) not in seen:
            seen.add(str(current.get("id")))
            parent = by_id.get(current.get("partOf", {}).get("reference", "").removeprefix("Organization/"))
            if parent is None:
                break
            current = parent
        return current

    @staticmethod
    def _walk(resource: Resource, by_id: dict[str, Resource]) -> str | None:
        seen: set[str] = set()
        current: Resource | None = resource
        while current is not None and str(current.get("id")) not in seen:
            seen.add(str(current.get("id")))
            code = _identifier(current, MUNICIPALITY_SYSTEM)
            if code is not None:
                return code
            parent = current.get("partOf", {}).get("reference", "")
            current = by_id.get(parent.removeprefix("Organization/")) if parent else None
        return None

    def municipality_of(self, sor: str) -> tuple[str, str] | None:
        code = self._by_sor.get(sor)
        return None if code is None else (code, self._names.get(code, code))

    def municipalities(self) -> list[tuple[str, str]]:
        """Every municipality known, by name."""
        codes = set(self._by_sor.values())
        return sorted(((c, self._names.get(c, c)) for c in codes), key=lambda item: item[1])
