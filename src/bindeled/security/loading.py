"""Building the gate's registers snapshot from what the store holds.

Citizens' blocks and positive consents are FHIR ``Consent`` resources (see ``consent.py``); whether a
SOR unit lies below another comes from the stored SOR ``Organization`` resources (``partOf``); the
authorisation snapshot, trust agreements, delegations and treatment relations come from the
administered registers (``register_store.py``). The snapshot is rebuilt at start-up and after every
change to any of them, so the next request is decided on the new state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import BindeledError
from ..fhir.jsonio import Resource
from ..store.base import Store, StoredResource
from .consent import directives_from_consent
from .facts import CPR_SYSTEM, SOR_SYSTEM, identifier_value
from .register_store import RegisterStore
from .registers import Block, Consent, IsWithin, Registers

__all__ = ["load_registers", "registers_marker", "sor_containment"]

log = logging.getLogger("bindeled.security")

_PAGE = 1000


async def _all_current(store: Store, resource_type: str) -> list[StoredResource]:
    """Every current version of a type, read in pages straight from the store (a trusted internal read)."""
    out: list[StoredResource] = []
    offset = 0
    while True:
        rows = await store.fetch_all(
            "SELECT res_id FROM resources WHERE res_type = "
            + ("$1" if store.dialect == "postgresql" else "?")
            + " AND deleted = "
            + ("false" if store.dialect == "postgresql" else "0")
            + f" ORDER BY res_id LIMIT {_PAGE} OFFSET {offset}",
            [resource_type],
        )
        if not rows:
            return out
        out += await store.read_many([(resource_type, str(row[0])) for row in rows])
        offset += _PAGE


async def registers_marker(store: Store) -> tuple[object, ...]:
    """A cheap fingerprint of the stored Consents, Organizations and registers: rebuild only when it changes."""
    p = "$1, $2" if store.dialect == "postgresql" else "?, ?"
    rows = await store.fetch_all(
        f"SELECT res_type, count(*), max(last_updated), sum(version) FROM resources WHERE res_type IN ({p}) "
        "GROUP BY res_type ORDER BY res_type",
        ["Consent", "Organization"],
    )
    return (*(tuple(row) for row in rows), ("registers", await RegisterStore(store).version()))


def sor_containment(organizations: Sequence[Resource]) -> IsWithin:
    """``is_within(unit, ancestor)`` over the SOR codes of Organizations and their ``partOf`` chain."""
    code_of = {f"Organization/{o['id']}": identifier_value(o, SOR_SYSTEM) for o in organizations}
    parent: dict[str, str] = {}
    for org in organizations:
        own = code_of.get(f"Organization/{org['id']}")
        above = org.get("partOf", {}).get("reference")
        if own and isinstance(above, str) and code_of.get(above):
            parent[own] = str(code_of[above])

    def is_within(unit: str, ancestor: str) -> bool:
        seen: set[str] = set()
        current: str | None = unit
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            current = parent.get(current)
        return False

    return is_within


async def load_registers(store: Store, base: Registers) -> Registers:
    """``base`` plus the administered registers and the stored Consents' blocks and consents."""
    base = await RegisterStore(store).registers(base)
    organizations = [s.resource() for s in await _all_current(store, "Organization")]
    consents = [s.resource() for s in await _all_current(store, "Consent")]
    patients: dict[str, str | None] = {}
    refs = {c.get("patient", {}).get("reference") for c in consents}
    wanted = [tuple(r.split("/", 1)) for r in refs if isinstance(r, str) and r.startswith("Patient/")]
    for stored in await store.read_many(wanted):  # type: ignore[arg-type]
        patients[f"Patient/{stored.id}"] = identifier_value(stored.resource(), CPR_SYSTEM)
    blocks: list[Block] = list(base.blocks)
    positives: list[Consent] = list(base.consents)
    for consent in consents:
        try:
            found_blocks, found_consents = directives_from_consent(consent, patients.get)
        except BindeledError as error:
            log.warning(
                "a stored Consent is not a valid directive",
                extra={"consent": consent.get("id"), "reason": error.details_code},
            )
            continue
        blocks += found_blocks
        positives += found_consents
    return Registers(
        authorisations=base.authorisations,
        trust_agreements=base.trust_agreements,
        blocks=tuple(blocks),
        consents=tuple(positives),
        relations=base.relations,
        delegations=base.delegations,
        is_within=sor_containment(organizations),
    )
