"""The overview of one citizen, gathered section by section through the gate.

Each section is read under the purpose of use it belongs to (staff), so a section outside the
user's chosen purposes, or refused by the policy, shows its refusal while the others still show.
Citizens and proxies need no purpose. Everything is plain FHIR search; hidden data simply is not
among the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BindeledError
from ..fhir.jsonio import Resource
from ..overview.treatment import CURRENT_STAY_TAG
from ..security.principal import Principal
from .access import data_access
from .framework import Page
from .views import (
    Row,
    appointment_row,
    communication_row,
    encounter_row,
    observation_row,
    plan_row,
    related_row,
)

__all__ = [
    "SECTION_PURPOSES",
    "Overview",
    "Section",
    "any_purpose",
    "gather_overview",
    "purpose_for",
    "read_patient",
    "relatives",
]

SECTION_PURPOSES: dict[str, str] = {
    "card": "ESP_STAMKORT",
    "appointments": "ESP_APPOINTMENTS",
    "stay": "ESP_APPOINTMENTS",
    "plans": "ESP_PLANS",
    "messages": "ESP_PLANS",
    "lab": "LAB_READ",
}
"""The purpose of use each section is read under."""

_QUERIES: dict[str, tuple[str, Callable[[str], list[tuple[str, str]]], Callable[[Resource], Row]]] = {
    "card": ("RelatedPerson", lambda ref: [("patient", ref)], related_row),
    "appointments": (
        "Appointment",
        lambda ref: [("patient", ref), ("_sort", "date"), ("_count", "50")],
        appointment_row,
    ),
    "stay": ("Encounter", lambda ref: [("subject", ref), ("_tag", CURRENT_STAY_TAG), ("_count", "1")], encounter_row),
    "plans": ("CarePlan", lambda ref: [("subject", ref), ("_count", "20")], plan_row),
    "messages": (
        "Communication",
        lambda ref: [("subject", ref), ("_sort", "-sent"), ("_count", "10")],
        communication_row,
    ),
    "lab": ("Observation", lambda ref: [("subject", ref), ("_sort", "-date"), ("_count", "20")], observation_row),
}


@dataclass
class Section:
    key: str
    rows: list[Row] = field(default_factory=list)
    refusal: str | None = None
    """The reason code when the section could not be read."""


@dataclass
class Overview:
    patient: Resource
    sections: dict[str, Section]


class PurposeNotChosen(BindeledError):
    status = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("No chosen purpose covers this section", details_code="purpose_not_chosen")


def _needs_purpose(principal: Principal) -> bool:
    return not principal.admin and principal.user_type not in ("citizen", "proxy", "operator")


def purpose_for(page: Page, section: str) -> str | None:
    """The purpose to read ``section`` under: None when the user needs none; raises when none chosen covers it."""
    principal = page.require()
    if not _needs_purpose(principal):
        return None
    wanted = SECTION_PURPOSES[section]
    if wanted in page.session.purposes:
        return wanted
    raise PurposeNotChosen()


def any_purpose(page: Page) -> str | None:
    """A purpose for reading the Patient itself (every purpose covers it); None when none is needed or chosen."""
    principal = page.require()
    if not _needs_purpose(principal) or not page.session.purposes:
        return None
    return page.session.purposes[0]


async def read_patient(page: Page, patient_id: str) -> Resource:
    """The citizen's Patient resource, through the gate (404 when absent or hidden)."""
    emergency = page.session.emergency_for(patient_id)
    async with data_access(page.request, page.session, purpose=any_purpose(page), emergency=emergency):
        stored = await page.services.repo.read("Patient", patient_id)
    return stored.resource()


async def _section(page: Page, key: str, patient_id: str) -> Section:
    type_, params, row = _QUERIES[key]
    try:
        purpose = purpose_for(page, key)
        emergency = page.session.emergency_for(patient_id)
        async with data_access(page.request, page.session, purpose=purpose, emergency=emergency, interaction="search"):
            _request, result = await page.services.repo.search(type_, params(f"Patient/{patient_id}"))
            found = [r.resource() for r in result.resources]
    except BindeledError as error:
        return Section(key, refusal=error.details_code or error.code)
    if key == "appointments":
        found = [r for r in found if r.get("status") not in ("cancelled", "entered-in-error")]
    if key == "card":
        found = [r for r in found if r.get("active", True)]
    return Section(key, [row(r) for r in found])


async def relatives(page: Page, patient_id: str) -> Section:
    """The citizen's current relatives (the card section) as this user may see them."""
    return await _section(page, "card", patient_id)


async def gather_overview(page: Page, patient_id: str) -> Overview:
    """The citizen's Patient and every section (each its own audited access)."""
    patient = await read_patient(page, patient_id)
    sections = {key: await _section(page, key, patient_id) for key in _QUERIES}
    return Overview(patient, sections)
