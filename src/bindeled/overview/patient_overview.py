"""Et Samlet Patientoverblik in one call: the card, current and coming appointments, active plans, the stay.

Everything is read through the repository under the request's guard, so the security gate applies to
each item: what a block hides is left out without a trace, and — because the MinLog collector groups a
request's reads per citizen and activity — the whole overview leaves exactly one MinLog entry. A
section whose resource type the caller's purpose of use does not cover is left out and named in an
``outcome`` OperationOutcome (purpose ``SJ_READ``, and citizens and proxies, see every section).

The answer is a ``Parameters`` resource:

=================  ============================================================================
``card``           the Fælles Stamkort (parts as in :func:`.stamkort_model.card_parameters`)
``appointment``    each current or coming overview appointment, earliest first (repeating)
``plan``           each active CarePlan (repeating)
``currentStay``    the citizen's one current-stay Encounter (tag ``overview|current-stay``)
``outcome``        an OperationOutcome naming left-out sections (only when there are any)
=================  ============================================================================

*Current and coming* means not cancelled, entered in error, fulfilled or no-show, and ending now or
later (an open end counts as the end of the start day); appointments that started more than
:data:`LOOKBACK` ago are not considered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from ..fhir.jsonio import Resource
from ..security.errors import AccessRefused
from ..store.guard import current_guard
from ..store.repository import Repository
from .appointment_model import OPEN_END
from .appointment_rules import extension_value, is_overview_appointment
from .card import card_of
from .searching import search_all
from .treatment import CURRENT_STAY_TAG

__all__ = ["LOOKBACK", "build_overview", "is_current_or_coming"]

LOOKBACK = timedelta(days=31)
"""How far back an appointment may have started and still be current (multi-day stays, open ends)."""

_GONE = frozenset({"cancelled", "entered-in-error", "fulfilled", "noshow"})


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _ends(appointment: Resource) -> datetime | None:
    start = _instant(appointment.get("start"))
    if extension_value(appointment, OPEN_END) is True and start is not None:
        return start.replace(hour=23, minute=59, second=59)
    return _instant(appointment.get("end")) or start


def is_current_or_coming(appointment: Resource, now: datetime) -> bool:
    """Shown in the overview: an overview appointment, still standing, not yet over."""
    if not is_overview_appointment(appointment) or appointment.get("status") in _GONE:
        return False
    end = _ends(appointment)
    return end is not None and end >= now


async def _section(type_: str, notes: list[str], read: Callable[[], Awaitable[list[Resource]]]) -> list[Resource]:
    try:
        await current_guard().allow("search", type_)
    except AccessRefused:
        notes.append(type_)
        return []
    return await read()


async def _appointments(repo: Repository, patient: str, now: datetime) -> list[Resource]:
    since = (now - LOOKBACK).isoformat()
    found = await search_all(repo, "Appointment", [("patient", patient), ("date", f"ge{since}")])
    shown = [s.resource() for s in found if is_current_or_coming(s.resource(), now)]
    return sorted(shown, key=lambda a: (_instant(a.get("start")) or now, str(a.get("id"))))


async def _plans(repo: Repository, patient: str) -> list[Resource]:
    found = await search_all(repo, "CarePlan", [("subject", patient), ("status", "active")])
    return [s.resource() for s in found]


async def _stay(repo: Repository, patient: str) -> list[Resource]:
    found = await search_all(repo, "Encounter", [("subject", patient), ("_tag", CURRENT_STAY_TAG)])
    return [s.resource() for s in sorted(found, key=lambda s: s.last_updated, reverse=True)[:1]]


def _outcome(notes: list[str], relatives_left_out: bool) -> Resource:
    left_out = [*notes, *(["RelatedPerson"] if relatives_left_out else [])]
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": f"{type_} is not covered by the purpose of use; that section is left out",
                "expression": [type_],
            }
            for type_ in left_out
        ],
    }


async def build_overview(repo: Repository, patient_id: str, now: datetime) -> Resource:
    """The overview of one citizen as the current request's principal may see it."""
    _patient, card, relatives_left_out = await card_of(repo, patient_id)
    ref = f"Patient/{patient_id}"
    notes: list[str] = []
    appointments = await _section("Appointment", notes, lambda: _appointments(repo, ref, now))
    plans = await _section("CarePlan", notes, lambda: _plans(repo, ref))
    stay = await _section("Encounter", notes, lambda: _stay(repo, ref))
    parameters: list[dict[str, Any]] = [{"name": "card", "part": card}]
    parameters += [{"name": "appointment", "resource": a} for a in appointments]
    parameters += [{"name": "plan", "resource": p} for p in plans]
    parameters += [{"name": "currentStay", "resource": e} for e in stay]
    if notes or relatives_left_out:
        parameters.append({"name": "outcome", "resource": _outcome(notes, relatives_left_out)})
    return {"resourceType": "Parameters", "parameter": parameters}
