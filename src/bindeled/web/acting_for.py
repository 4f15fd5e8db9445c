"""Whom a citizen's page is about: the citizen themself, or the represented citizen a proxy has chosen.

A proxy may hold powers of attorney for several citizens (the token's ``represents``). They are
found with one search through the gate (which decides whether the proxy may see each of them); the
choice is kept in the session as the Patient's id — never the CPR number — and falls back to the
first represented citizen by name when none (or one no longer represented) is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..fhir.jsonio import Resource
from ..security.facts import CPR_SYSTEM
from .access import data_access
from .framework import Page
from .views import person_name

__all__ = ["CITIZENS", "Represented", "own_patient", "represented"]

CITIZENS = ("citizen", "proxy")


@dataclass(frozen=True, slots=True)
class Represented:
    """The citizens a page may be about, and the one it is about now."""

    patients: tuple[Resource, ...]
    chosen: Resource | None

    def choices(self) -> list[tuple[str, str]]:
        """(Patient id, name) of each, for the chooser."""
        return [(str(p["id"]), person_name(p)) for p in self.patients]


async def represented(page: Page) -> Represented:
    """The citizen's own Patient, or the proxy's represented citizens and the chosen one."""
    principal = page.require(*CITIZENS, refusal="not_citizen")
    wanted = [principal.cpr] if principal.user_type == "citizen" else sorted(principal.represents)
    wanted = [c for c in wanted if c]
    if not wanted:
        return Represented((), None)
    identifiers = ",".join(f"{CPR_SYSTEM}|{cpr}" for cpr in wanted)
    async with data_access(page.request, page.session, interaction="search"):
        _req, result = await page.services.repo.search(
            "Patient", [("identifier", identifiers), ("_count", str(len(wanted) + 10))]
        )
    found = sorted((r.resource() for r in result.resources), key=lambda p: (person_name(p), str(p.get("id"))))
    chosen = next((p for p in found if p.get("id") == page.session.acting_for), found[0] if found else None)
    return Represented(tuple(found), chosen)


async def own_patient(page: Page) -> Resource | None:
    """The Patient the citizen's pages are about (see :func:`represented`)."""
    return (await represented(page)).chosen
