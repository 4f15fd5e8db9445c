"""Staff pages: find a citizen, the overview, editing the card, and emergency access.

The search takes the CPR number or name in a POST body, so it never appears in a URL, a log line or
the browser history; results link to the overview by the resource id. Edits go through the
repository under the gate like any API write (the card under ``ESP_STAMKORT``). Emergency access
(værdispring) needs a reason, covers one citizen for :data:`EMERGENCY_MINUTES`, and the overview
says plainly while it is in force.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..overview.card import edit_card
from ..overview.stamkort_edit import parse_edit
from ..security.facts import CPR_SYSTEM
from .access import data_access
from .framework import Page
from .overview_data import any_purpose, gather_overview, purpose_for, read_patient, relatives
from .pages_session import safe_next
from .session_cookie import Emergency
from .svg import timeline
from .views import patient_summary

__all__ = [
    "EMERGENCY_MINUTES",
    "EMERGENCY_REASONS",
    "emergency",
    "emergency_end",
    "find",
    "overview",
    "phone",
    "relative",
]

EMERGENCY_MINUTES = 30
EMERGENCY_REASONS = ("not_contactable", "citizen_consent", "vital_interest")
_STAFF = ("hcp", "trust_user")
_CPR = re.compile(r"\d{6}-?\d{4}\Z")
_PHONE = re.compile(r"\+?[0-9 ]{8,20}\Z")
_SECTORS = ("municipal", "regional", "practice", "")


def _needs_purposes(page: Page) -> Response | None:
    principal = page.require(*_STAFF, refusal="not_staff")
    if not principal.admin and not page.session.purposes:
        return page.redirect(f"/purpose?next={page.request.url.path}")
    return None


async def find(request: Request, page: Page) -> Response:
    redirect = _needs_purposes(page)
    if redirect is not None:
        return redirect
    if request.method == "GET":
        return page.render("find.html", searched=False)
    form = await page.form()
    query = str(form.get("query", "")).strip()[:100]
    if not query:
        return page.render("find.html", status=422, searched=True, results=[], refusal=page.t("edit.invalid"))
    params = [("identifier", f"{CPR_SYSTEM}|{query.replace('-', '')}")] if _CPR.match(query) else [("name", query)]
    async with data_access(request, page.session, purpose=any_purpose(page), interaction="search"):
        _req, result = await page.services.repo.search("Patient", [*params, ("_count", "50")])
        found = [patient_summary(r.resource()) for r in result.resources]
    return page.render("find.html", searched=True, results=found, refusal=None)


async def overview(request: Request, page: Page) -> Response:
    redirect = _needs_purposes(page)
    if redirect is not None:
        return redirect
    patient_id = request.path_params["id"]
    data = await gather_overview(page, patient_id)
    appointments = data.sections["appointments"].rows
    lanes = [(key, page.t(f"sector.{key or 'unknown'}")) for key in _SECTORS]
    plot = timeline([(r.when, r.sector, r.what) for r in appointments], lanes, page.t("overview.timeline"))
    return page.render(
        "overview.html",
        patient=patient_summary(data.patient),
        sections=data.sections,
        timeline=plot,
        emergency=page.session.emergency_for(patient_id),
        reasons=EMERGENCY_REASONS,
        editable=True,
        self_view=False,
    )


async def _edit_card(page: Page, patient_id: str, parameters: list[dict[str, Any]]) -> None:
    """One card edit (the overview's ``$stamkort`` logic: rules, treatment relation, Provenance) as this user."""
    purpose = purpose_for(page, "card")
    emergency = page.session.emergency_for(patient_id)
    edit = parse_edit({"resourceType": "Parameters", "parameter": parameters})
    async with data_access(page.request, page.session, purpose=purpose, emergency=emergency, interaction="update"):
        await edit_card(page.services.repo, patient_id, edit, datetime.now(UTC))


async def phone(request: Request, page: Page) -> Response:
    page.require(*_STAFF, refusal="not_staff")
    patient_id = request.path_params["id"]
    form = await page.form()
    number = str(form.get("phone", "")).strip()
    if not _PHONE.match(number):
        return page.redirect(f"/patient/{patient_id}", flash="edit.invalid")
    await _edit_card(page, patient_id, [{"name": "phone", "valueString": number}])
    return page.redirect(f"/patient/{patient_id}", flash="edit.saved")


def _relative_parameter(name: str, relation: str, number: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"name": "name", "valueString": name},
        {"name": "relationship", "valueString": relation},
    ]
    if number:
        parts.append({"name": "phone", "valueString": number})
    return {"name": "relative", "part": parts}


async def relative(request: Request, page: Page) -> Response:
    """Add a relative: the card's relatives are replaced as a whole, so the current ones are sent along."""
    page.require(*_STAFF, refusal="not_staff")
    patient_id = request.path_params["id"]
    form = await page.form()
    name = str(form.get("name", "")).strip()[:100]
    number = str(form.get("phone", "")).strip()
    relation = str(form.get("relation", "")).strip()[:60]
    if not name or not relation or (number and not _PHONE.match(number)):
        return page.redirect(f"/patient/{patient_id}", flash="edit.invalid")
    current = await relatives(page, patient_id)
    wanted = [_relative_parameter(r.what, r.status or "-", r.when) for r in current.rows if r.what]
    await _edit_card(page, patient_id, [*wanted, _relative_parameter(name, relation, number)])
    return page.redirect(f"/patient/{patient_id}", flash="edit.saved")


async def emergency(request: Request, page: Page) -> Response:
    page.require("hcp", refusal="emergency_not_permitted")
    patient_id = request.path_params["id"]
    if request.method == "GET":
        await read_patient(page, patient_id)
        return page.render("emergency.html", patient_id=patient_id, reasons=EMERGENCY_REASONS, missing=False)
    form = await page.form()
    reason = str(form.get("reason", ""))
    if reason not in EMERGENCY_REASONS:
        return page.render("emergency.html", status=422, patient_id=patient_id, reasons=EMERGENCY_REASONS, missing=True)
    granted = Emergency(patient_id, reason, time.time() + EMERGENCY_MINUTES * 60)
    page.session.emergency = granted
    page.session.changed = True
    # The grant itself is an audited access to the citizen, with the reason, before anything is shown.
    async with data_access(request, page.session, purpose=any_purpose(page), emergency=granted):
        await page.services.repo.read("Patient", patient_id)
    return page.redirect(f"/patient/{patient_id}")


async def emergency_end(request: Request, page: Page) -> Response:
    page.require()
    form = await page.form()
    page.session.emergency = None
    page.session.changed = True
    return page.redirect(safe_next(form.get("next"), "/find"))
