"""The overview of one citizen for a page: the same overview service as ``GET /fhir/Patient/{id}/$overview``.

The card, the current and coming appointments, the active plans and the current stay come from
:func:`bindeled.overview.patient_overview.build_overview` — one call through the gate, one MinLog
entry — exactly what the API answers. A purpose of use is one per request, so the call is made under
the chosen purpose that covers most of the overview; only when that leaves out a section another
chosen purpose covers is it called again under that one (staff who chose several overview purposes).
Citizens, proxies and administrators need no purpose: one call. A section no chosen purpose covers
shows its refusal while the others still show.

Lab results and recent messages are not part of ``$overview``; they are read as FHIR searches under
their own purposes. Hidden data simply is not among the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import BindeledError
from ..fhir.jsonio import Resource
from ..overview.patient_overview import build_overview
from ..security.facts import CPR_SYSTEM
from ..security.principal import Principal
from ..security.purposes import DEFAULT_PURPOSE_RULES
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
"""The purpose of use each section is read under (the overview's sections: the one covering their type)."""

_OVERVIEW_TYPES: dict[str, str] = {
    "RelatedPerson": "card",
    "Appointment": "appointments",
    "Encounter": "stay",
    "CarePlan": "plans",
}
"""The ``$overview`` sections by the resource type its outcome names when it leaves one out."""

_SEPARATE: dict[str, tuple[str, Callable[[str], list[tuple[str, str]]], Callable[[Resource], Row]]] = {
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
    """The citizen as the card shows them (id, CPR, name, birth date, phone)."""
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


# -- the $overview call ------------------------------------------------------------------------------


def _covered(purpose: str, wanted: set[str]) -> set[str]:
    rule = DEFAULT_PURPOSE_RULES.get(purpose)
    return {t for t in wanted if rule is not None and rule.covers(t)}


def _purposes_in_order(page: Page) -> list[str | None]:
    """The purposes to call ``$overview`` under, most covering first; ``[None]`` when none is needed."""
    if not _needs_purpose(page.require()):
        return [None]
    chosen = list(page.session.purposes)
    wanted = set(_OVERVIEW_TYPES)
    ranked = sorted((p for p in chosen if _covered(p, wanted)), key=lambda p: -len(_covered(p, wanted)))
    return [*ranked] if ranked else [any_purpose(page)]


async def _overview_under(page: Page, patient_id: str, purpose: str | None) -> Resource:
    emergency = page.session.emergency_for(patient_id)
    async with data_access(page.request, page.session, purpose=purpose, emergency=emergency):
        return await build_overview(page.services.repo, patient_id, datetime.now(UTC))


def _parts(parameter: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [p for p in parameter.get("part", []) if p.get("name") == name]


def _value(part: dict[str, Any]) -> Any:
    return next((v for k, v in part.items() if k.startswith("value")), None)


def _card(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = next((p for p in parameters if p.get("name") == "card"), {"part": []})
    return {p.get("name"): p for p in card.get("part", [])}


def _patient(patient_id: str, card: dict[str, Any]) -> Resource:
    """The citizen as the card shows them, in the shape of a Patient (for the page's summary)."""
    register, editable = card.get("register", {}), card.get("editable", {})
    cpr = next((_value(p).get("value") for p in _parts(register, "cpr")), None)
    birth = next((_value(p) for p in _parts(register, "birthDate")), None)
    patient: Resource = {"resourceType": "Patient", "id": patient_id}
    patient["identifier"] = [{"system": CPR_SYSTEM, "value": cpr}] if cpr else []
    patient["name"] = [_value(p) for p in _parts(register, "name")]
    patient["telecom"] = [_value(p) for p in _parts(editable, "phone")]
    if birth:
        patient["birthDate"] = birth
    return patient


def _relatives(card: dict[str, Any]) -> list[Row]:
    rows = []
    for relative in _parts(card.get("editable", {}), "relative"):
        resource: Resource = {"resourceType": "RelatedPerson", "id": ""}
        for part in relative.get("part", []):
            name, value = part.get("name"), _value(part)
            key = {"id": "id", "name": "name", "relationship": "relationship", "phone": "telecom"}.get(str(name))
            if key == "id":
                resource["id"] = value
            elif key is not None:
                resource.setdefault(key, []).append(value)
        rows.append(related_row(resource))
    return rows


def _left_out(parameters: list[dict[str, Any]]) -> set[str]:
    outcome: dict[str, Any] = next((p.get("resource", {}) for p in parameters if p.get("name") == "outcome"), {})
    return {e for issue in outcome.get("issue", []) for e in issue.get("expression", [])}


def _sections_of(parameters: list[dict[str, Any]]) -> dict[str, Section]:
    """The overview's sections in one answer (those it left out are not among them)."""
    resources: dict[str, list[Resource]] = {"appointment": [], "plan": [], "currentStay": []}
    for p in parameters:
        if p.get("name") in resources:
            resources[str(p["name"])].append(p["resource"])
    found = {
        "card": Section("card", _relatives(_card(parameters))),
        "appointments": Section("appointments", [appointment_row(r) for r in resources["appointment"]]),
        "plans": Section("plans", [plan_row(r) for r in resources["plan"]]),
        "stay": Section("stay", [encounter_row(r) for r in resources["currentStay"]]),
    }
    left_out = {_OVERVIEW_TYPES[t] for t in _left_out(parameters) if t in _OVERVIEW_TYPES}
    return {key: section for key, section in found.items() if key not in left_out}


async def _overview_sections(page: Page, patient_id: str) -> tuple[Resource, dict[str, Section]]:
    """The citizen and the ``$overview`` sections, in as few calls as the chosen purposes allow."""
    purposes = _purposes_in_order(page)
    first = (await _overview_under(page, patient_id, purposes[0]))["parameter"]
    patient = _patient(patient_id, _card(first))
    sections = _sections_of(first)
    for purpose in purposes[1:]:
        missing = {t for t, key in _OVERVIEW_TYPES.items() if key not in sections}
        if purpose is None or not _covered(purpose, missing):
            continue
        more = _sections_of((await _overview_under(page, patient_id, purpose))["parameter"])
        sections.update({k: v for k, v in more.items() if k not in sections})
    for key in _OVERVIEW_TYPES.values():
        sections.setdefault(key, Section(key, refusal="purpose_not_chosen"))
    return patient, sections


# -- the sections beside $overview ---------------------------------------------------------------------


async def _separate(page: Page, key: str, patient_id: str) -> Section:
    type_, params, row = _SEPARATE[key]
    try:
        purpose = purpose_for(page, key)
        emergency = page.session.emergency_for(patient_id)
        async with data_access(page.request, page.session, purpose=purpose, emergency=emergency, interaction="search"):
            _request, result = await page.services.repo.search(type_, params(f"Patient/{patient_id}"))
            found = [r.resource() for r in result.resources]
    except BindeledError as error:
        return Section(key, refusal=error.details_code or error.code)
    return Section(key, [row(r) for r in found])


async def relatives(page: Page, patient_id: str) -> Section:
    """The citizen's current relatives (the card section) as this user may see them, read for an edit."""
    try:
        purpose = purpose_for(page, "card")
        emergency = page.session.emergency_for(patient_id)
        async with data_access(page.request, page.session, purpose=purpose, emergency=emergency, interaction="search"):
            _request, result = await page.services.repo.search("RelatedPerson", [("patient", f"Patient/{patient_id}")])
            found = [r.resource() for r in result.resources if r.resource().get("active", True)]
    except BindeledError as error:
        return Section("card", refusal=error.details_code or error.code)
    return Section("card", [related_row(r) for r in found])


async def gather_overview(page: Page, patient_id: str) -> Overview:
    """The citizen and every section: ``$overview`` (one call per purpose needed) plus lab results and messages."""
    patient, sections = await _overview_sections(page, patient_id)
    for key in _SEPARATE:
        sections[key] = await _separate(page, key, patient_id)
    return Overview(patient, sections)
