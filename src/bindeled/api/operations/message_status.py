"""``GET [base]/$message-status?message=<MessageHeader.id>``: where is my message?

Answers a ``searchset`` Bundle of the letter's hop AuditEvents, oldest first (received, validated
or refused, acknowledged, delivered, acknowledged by the receiver, …; see
:mod:`bindeled.messaging.hub.status`). The sender and the receiver of the letter (a caller whose
organisation is the letter's sender or receiver SOR unit, or a unit above it) and the hub's
operators may ask; anyone else gets the same 404 as for a letter the hub never saw, so the answer
does not reveal that a letter exists.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequest, NotFound
from ...messaging.hub.received import find_letter
from ...messaging.hub.routing import may_send_as
from ...messaging.hub.status import message_status as hops_of
from ...security.guard import RequestGuard
from ...store.base import Store
from ...store.guard import current_guard
from ..rendering import fhir_response
from ..services import base_url, services

__all__ = ["message_status"]


async def _may_see(store: Store, sender_sor: str, receiver_sor: str) -> bool:
    guard = current_guard()
    if not isinstance(guard, RequestGuard):
        return True
    principal = guard.session.principal
    if principal.admin or principal.user_type == "operator":
        return True
    own = principal.organisation_sor
    if own is None:
        return False
    return await may_send_as(store, own, sender_sor) or await may_send_as(store, own, receiver_sor)


async def message_status(request: Request) -> Response:
    svc = services(request)
    message_id = request.query_params.get("message", "").strip()
    if not message_id:
        raise InvalidRequest("$message-status needs the parameter message (a MessageHeader.id)", location=("message",))
    await current_guard().allow("search", "AuditEvent")
    letter = await find_letter(svc.store, message_id)
    if letter is None or not await _may_see(svc.store, letter.sender_sor, letter.receiver_sor):
        raise NotFound("No message with this id is known to you", location=("message",))
    events = await hops_of(svc.store, message_id)
    base = base_url(request)
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(events),
        "link": [{"relation": "self", "url": f"{base}/$message-status?message={quote(message_id)}"}],
        "entry": [
            {"fullUrl": f"urn:uuid:{event['id']}", "resource": event, "search": {"mode": "match"}} for event in events
        ],
    }
    return fhir_response(request, bundle, svc.definitions)
