"""Appointment reminders for the citizen: ``GET``, ``POST`` and ``DELETE /fhir/$reminders``.

Only citizens and proxies use it (nationally the citizen signs up personally; 403
``reminders_for_citizens`` for anyone else). A citizen manages their own subscription; a proxy names
the citizen with ``patient`` (``Patient/{id}``, in the query or the body) unless they represent one
citizen only. The citizen's Patient is looked up through the security gate, so a proxy reaches only
the citizens they represent (others are 404) and the look-up is in the citizen's MinLog.

``POST`` takes ``Parameters``: ``channel`` (``sms`` | ``email``), ``address`` (a phone number or an
e-mail address) and optionally ``leadTimeMinutes`` (default ``reminder_default_lead_minutes``); it
stores the subscription and schedules the citizen's coming appointments at once. ``GET`` answers with
the subscription and the citizen's reminders (appointment, version, due time, state); ``DELETE``
removes it and settles pending reminders as ``unsubscribed``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...errors import Conflict, Forbidden, InvalidRequest, NotFound
from ...fhir.jsonio import Resource
from ...overview.reminders import Subscription, reminders_of, subscribe, subscription_of, unsubscribe
from ...overview.reminders.model import check_address, check_lead
from ...security.facts import CPR_SYSTEM, identifier_value
from ...security.guard import RequestGuard
from ...security.principal import Principal
from ...store.base import utc_now
from ...store.guard import current_guard
from ..rendering import fhir_response, read_resource
from ..services import Services, services

__all__ = ["reminders"]

_CITIZEN_TYPES = frozenset({"citizen", "proxy"})


def _principal() -> Principal:
    guard = current_guard()
    principal = guard.session.principal if isinstance(guard, RequestGuard) else None
    if principal is None or principal.user_type not in _CITIZEN_TYPES:
        raise Forbidden("Reminders are managed by the citizen or a proxy", details_code="reminders_for_citizens")
    return principal


def _parameters(body: Resource) -> dict[str, Any]:
    if body.get("resourceType") != "Parameters":
        raise InvalidRequest("$reminders takes a Parameters resource", location=("resourceType",))
    found: dict[str, Any] = {}
    for parameter in body.get("parameter", ()):
        value = next((v for k, v in parameter.items() if k.startswith("value")), None)
        found[str(parameter.get("name"))] = value
    return found


def _own(principal: Principal) -> set[str]:
    """The CPR numbers whose reminders the caller manages: their own (citizen) or those they represent."""
    if principal.user_type == "citizen":
        return {principal.cpr} if principal.cpr else set()
    return set(principal.represents)


async def _patient_id(svc: Services, principal: Principal, reference: Any) -> str:
    """The citizen's Patient id, read through the gate (404 for a citizen the caller does not represent)."""
    if isinstance(reference, dict):
        reference = reference.get("reference")
    if reference:
        text = str(reference)
        if not text.startswith("Patient/") or text.count("/") != 1:
            raise InvalidRequest("patient must be a reference Patient/{id}", location=("patient",))
        stored = await svc.repo.read("Patient", text.split("/", 1)[1])
        if identifier_value(stored.resource(), CPR_SYSTEM) not in _own(principal):
            raise NotFound(f"{text} is not known")
        return stored.id
    cprs = sorted(_own(principal))
    if len(cprs) != 1:
        raise InvalidRequest("Name the citizen with the patient parameter", location=("patient",))
    _request, result = await svc.repo.search("Patient", [("identifier", f"{CPR_SYSTEM}|{cprs[0]}")])
    if not result.resources:
        raise NotFound("There is no patient record for this citizen")
    if len(result.resources) > 1:
        raise Conflict("More than one patient record has this citizen's CPR number")
    return result.resources[0].id


async def _view(svc: Services, subscription: Subscription) -> Resource:
    rows = await reminders_of(svc.store, subscription.patient_id)
    parameter: list[dict[str, Any]] = [
        {"name": "patient", "valueReference": {"reference": f"Patient/{subscription.patient_id}"}},
        {"name": "channel", "valueCode": subscription.channel},
        {"name": "address", "valueString": subscription.address},
        {"name": "leadTimeMinutes", "valueInteger": subscription.lead_minutes},
    ]
    for row in rows:
        parts = [
            {"name": "appointment", "valueReference": {"reference": f"Appointment/{row.appointment_id}"}},
            {"name": "version", "valueInteger": row.appointment_version},
            {"name": "due", "valueInstant": row.due},
            {"name": "state", "valueCode": row.state},
        ]
        parameter.append({"name": "reminder", "part": parts})
    return {"resourceType": "Parameters", "parameter": parameter}


async def reminders(request: Request) -> Response:
    svc = services(request)
    principal = _principal()
    if request.method == "POST":
        body = _parameters(await read_resource(request, svc.settings.max_body_bytes, svc.definitions))
        patient_id = await _patient_id(svc, principal, body.get("patient") or request.query_params.get("patient"))
        return await _subscribe(request, svc, principal, patient_id, body)
    patient_id = await _patient_id(svc, principal, request.query_params.get("patient"))
    found = await subscription_of(svc.store, patient_id)
    if found is None:
        raise NotFound("The citizen has no reminder subscription")
    if request.method == "DELETE":
        await unsubscribe(svc.repo, patient_id)
        return Response(status_code=204)
    return fhir_response(request, await _view(svc, found), svc.definitions)


async def _subscribe(
    request: Request, svc: Services, principal: Principal, patient_id: str, body: dict[str, Any]
) -> Response:
    channel = str(body.get("channel") or "")
    address = check_address(channel, str(body.get("address") or ""))
    lead = body.get("leadTimeMinutes", svc.settings.reminder_default_lead_minutes)
    if not isinstance(lead, int) or isinstance(lead, bool):
        raise InvalidRequest(
            "leadTimeMinutes must be an integer", location=("Parameters.parameter('leadTimeMinutes')",)
        )
    existed = await subscription_of(svc.store, patient_id) is not None
    subscription = Subscription(patient_id, "sms" if channel == "sms" else "email", address, check_lead(lead))
    await subscribe(svc.repo, subscription, principal.pseudonym(), utc_now())
    status = 200 if existed else 201
    return fhir_response(request, await _view(svc, subscription), svc.definitions, status=status)
