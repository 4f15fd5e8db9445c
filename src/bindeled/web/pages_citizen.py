"""Citizens' pages: my overview, my log (MinLog), my blocks and consents.

Everything is read and written as the citizen through the gate: the overview is the same as staff
see (without editing or emergency access), the log is the citizen's MinLog (the same entries
``GET /fhir/AuditEvent`` gives a citizen), and blocks and consents are FHIR ``Consent`` resources
(``security/consent.py``) the citizen creates and withdraws; the gate's registers are rebuilt after
each change so the block takes effect at once. A proxy holding powers of attorney for several citizens
chooses on ``/me`` whom the pages are about (``acting_for.py``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest
from ..fhir.jsonio import Resource
from ..security.consent import AUTHORISATION_SYSTEM
from ..security.facts import SOR_SYSTEM
from ..security.minlog import MinLogEntry
from .access import data_access
from .acting_for import own_patient, represented
from .framework import Page
from .overview_data import gather_overview
from .svg import timeline

__all__ = ["BLOCK_KINDS", "blocks", "choose", "consent_for", "log", "me", "own_patient", "withdraw"]

_CITIZENS = ("citizen", "proxy")
BLOCK_KINDS = ("lab", "all", "organisation", "person", "consent_organisation")
_SOR = re.compile(r"\d{11,18}\Z")
_AUTH = re.compile(r"[A-Za-z0-9]{3,20}\Z")
_LAB_TYPES = ("Observation", "DiagnosticReport")
_SECTORS = ("municipal", "regional", "practice", "")


async def me(request: Request, page: Page) -> Response:
    people = await represented(page)
    patient = people.chosen
    if patient is None:
        return page.render("me_empty.html")
    data = await gather_overview(page, str(patient["id"]))
    from .views import patient_summary

    lanes = [(key, page.t(f"sector.{key or 'unknown'}")) for key in _SECTORS]
    rows = data.sections["appointments"].rows
    return page.render(
        "overview.html",
        patient=patient_summary(data.patient),
        sections=data.sections,
        timeline=timeline([(r.when, r.sector, r.what) for r in rows], lanes, page.t("overview.timeline")),
        emergency=None,
        reasons=(),
        editable=False,
        self_view=True,
        represented=people.choices() if len(people.patients) > 1 else [],
        acting_for=str(patient["id"]),
    )


async def choose(request: Request, page: Page) -> Response:
    """A proxy chooses which represented citizen the pages are about (by Patient id, in a form body)."""
    page.require("proxy", refusal="not_citizen")
    form = await page.form()
    wanted = str(form.get("patient", ""))
    people = await represented(page)
    if wanted not in {pid for pid, _name in people.choices()}:
        raise InvalidRequest("Not a citizen you represent", location=("patient",), details_code="not_represented")
    page.session.acting_for = wanted
    page.session.changed = True
    return page.redirect("/me")


@dataclass(frozen=True, slots=True)
class LogLine:
    when: str
    who: str
    where: str
    why: str
    what: str
    emergency: str | None


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("Dates are YYYY-MM-DD", location=(field,), details_code="bad_date") from None


def _line(page: Page, entry: MinLogEntry) -> LogLine:
    who = entry.user_full_name if entry.user_full_name and not entry.name_protected else None
    return LogLine(
        when=entry.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        who=who or page.t("log.protected", role=entry.user_role or ""),
        where=entry.organisation_name or entry.organisation_sor or entry.system_name or "",
        why=page.t(f"purpose.{entry.purpose}") if entry.purpose else "",
        what=", ".join(entry.resource_types) or entry.activity,
        emergency=entry.emergency_reason if entry.emergency else None,
    )


async def log(request: Request, page: Page) -> Response:
    principal = page.require(*_CITIZENS, refusal="not_citizen")
    params = request.query_params
    try:
        start, end = _day(params.get("from"), "from"), _day(params.get("to"), "to")
    except InvalidRequest:
        return page.render("log.html", status=422, lines=[], bad_date=True, filters=dict(params))
    reader = (params.get("reader") or "").strip().lower()[:100]
    gate = page.services.gate
    assert gate is not None
    since = datetime.combine(start, time.min, UTC) if start else None
    until = datetime.combine(end, time.min, UTC) + timedelta(days=1) if end else None
    entries: list[MinLogEntry] = []
    async with data_access(request, page.session, interaction="search"):
        for citizen in sorted({c for c in (principal.cpr, *principal.represents) if c}):
            entries += await gate.sink.minlog(citizen, since=since)
    entries = [e for e in entries if until is None or e.time < until]
    lines = [_line(page, e) for e in sorted(entries, key=lambda e: e.time, reverse=True)]
    if reader:
        lines = [line for line in lines if reader in line.who.lower()]
    return page.render("log.html", lines=lines, bad_date=False, filters=dict(params))


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    kind: str
    target: str
    active: bool
    since: str


def _choice(page: Page, consent: Resource) -> Choice:
    provision = consent.get("provision", {})
    actor = (provision.get("actor") or [{}])[0].get("reference", {}).get("identifier", {}).get("value", "")
    classes = ", ".join(c.get("code", "") for c in provision.get("class", []))
    target = actor or classes or page.t("blocks.everything")
    kind = page.t("blocks.permit" if provision.get("type") == "permit" else "blocks.deny")
    return Choice(
        str(consent.get("id", "")), kind, target, consent.get("status") == "active", str(consent.get("dateTime", ""))
    )


def consent_for(patient_id: str, kind: str, target: str, now: datetime) -> Resource:
    """The FHIR Consent for one of the citizen's choices (``kind`` in :data:`BLOCK_KINDS`)."""
    provision: dict[str, Any] = {"type": "permit" if kind == "consent_organisation" else "deny"}
    if kind in ("organisation", "consent_organisation", "person"):
        system = AUTHORISATION_SYSTEM if kind == "person" else SOR_SYSTEM
        role = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]}
        provision["actor"] = [{"role": role, "reference": {"identifier": {"system": system, "value": target}}}]
    if kind == "lab":
        provision["class"] = [{"system": "http://hl7.org/fhir/resource-types", "code": t} for t in _LAB_TYPES]
    return {
        "resourceType": "Consent",
        "id": str(uuid.uuid4()),
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": now.isoformat(timespec="seconds"),
        "policyRule": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "OPTIN" if provision["type"] == "permit" else "OPTOUT",
                }
            ]
        },
        "provision": provision,
    }


def _target_valid(kind: str, target: str) -> bool:
    if kind in ("organisation", "consent_organisation"):
        return bool(_SOR.match(target))
    if kind == "person":
        return bool(_AUTH.match(target))
    return True


async def blocks(request: Request, page: Page) -> Response:
    patient = await own_patient(page)
    if patient is None:
        return page.render("me_empty.html")
    patient_id = str(patient["id"])
    error = False
    if request.method == "POST":
        form = await page.form()
        kind, target = str(form.get("kind", "")), str(form.get("target", "")).strip()
        if kind in BLOCK_KINDS and _target_valid(kind, target):
            resource = consent_for(patient_id, kind, target, datetime.now(UTC))
            async with data_access(request, page.session, interaction="create"):
                await page.services.repo.create("Consent", resource)
            await page.services.refresh_registers()
            return page.redirect("/me/blocks", flash="blocks.created")
        error = True
    async with data_access(request, page.session, interaction="search"):
        _req, result = await page.services.repo.search(
            "Consent", [("patient", f"Patient/{patient_id}"), ("_count", "100")]
        )
        choices = [_choice(page, r.resource()) for r in result.resources]
    return page.render("blocks.html", status=422 if error else 200, choices=choices, kinds=BLOCK_KINDS, error=error)


async def withdraw(request: Request, page: Page) -> Response:
    page.require(*_CITIZENS, refusal="not_citizen")
    await page.form()
    consent_id = request.path_params["id"]
    repo = page.services.repo
    async with data_access(request, page.session, interaction="update"):
        stored = await repo.read("Consent", consent_id)
        body = {**stored.resource(), "status": "inactive"}
        await repo.update("Consent", consent_id, body, if_match=int(stored.version_id))
    await page.services.refresh_registers()
    return page.redirect("/me/blocks", flash="blocks.withdrawn")
