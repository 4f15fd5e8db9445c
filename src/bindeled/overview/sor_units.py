"""What the overview rules need from the stored SOR register: a unit's SOR code, phone and municipality.

The register is imported as FHIR resources (``registry.fhir``): ``Organization/sor-<code>`` and
``Location/sor-<code>``, whose ``telecom`` already holds the phone a unit inherits from its nearest
ancestor. These look-ups read committed data straight from the store (they are trusted internal reads
of public register data, not a citizen's data), so they never reach MinLog.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..fhir.jsonio import Resource
from ..security.facts import SOR_SYSTEM, identifier_value
from ..store.base import StoredResource

__all__ = [
    "MUNICIPALITY_SYSTEM",
    "UnitReader",
    "municipality_of",
    "organisation_for_sor",
    "phone_of",
    "read_reference",
    "sor_code",
]

MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
_MAX_DEPTH = 32


class UnitReader(Protocol):
    """The part of a store (or transaction) these look-ups use."""

    async def read(self, resource_type: str, id: str) -> StoredResource | None: ...


async def read_reference(reader: UnitReader, reference: Any, *types: str) -> Resource | None:
    """The current resource a literal reference (``Type/id``) of one of ``types`` points at; None otherwise."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    type_, _, id_ = str(reference["reference"]).partition("/")
    if type_ not in types or not id_ or "/" in id_:
        return None
    found = await reader.read(type_, id_)
    return None if found is None or found.deleted else found.resource()


def sor_code(resource: Resource | None) -> str | None:
    """The SOR code of an Organization or Location (None: not registered in SOR)."""
    return None if resource is None else identifier_value(resource, SOR_SYSTEM)


def phone_of(resource: Resource | None) -> str | None:
    """The first phone number of a unit (own or inherited: the register resolves inheritance on import)."""
    for point in (resource or {}).get("telecom", ()):
        if isinstance(point, dict) and point.get("system") == "phone" and point.get("value"):
            return str(point["value"])
    return None


async def organisation_for_sor(reader: UnitReader, code: str) -> Resource | None:
    """The Organization of a SOR code, by the register's id convention ``sor-<code>``."""
    found = await reader.read("Organization", f"sor-{code}")
    return None if found is None or found.deleted else found.resource()


async def municipality_of(reader: UnitReader, organisation: Resource | None) -> str | None:
    """The municipality code (kommunekode) of a unit: its own, else the nearest ancestor's."""
    current = organisation
    for _ in range(_MAX_DEPTH):
        if current is None:
            return None
        code = identifier_value(current, MUNICIPALITY_SYSTEM)
        if code is not None:
            return code
        current = await read_reference(reader, current.get("partOf"), "Organization")
    return None
