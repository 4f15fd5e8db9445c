"""The hub's delivery endpoints: the dead-letter list and its replay (operators), and the mailbox (receivers).

``GET  /fhir/$dead-letters[?_count=&_offset=]``  administrators and operators: the letters the hub gave up
on, as a ``Parameters`` resource (one ``deadLetter`` parameter per letter, without its content), and the
failures counted since the process started, per message type.

``POST /fhir/$replay-dead-letter``  administrators and operators: a ``Parameters`` body with ``messageId``
(the MessageHeader id) and optionally ``acknowledgement`` (true for a dead Acknowledgement). The letter is
queued again in a new envelope; 404 when no such dead letter exists.

``GET  /fhir/$delivery-statistics[?start=&end=]``  administrators and operators: per message type, sender and
receiver (GLN), for the letters received in ``[start, end)`` (default: the last 24 hours): letters, delivered,
acknowledged by the receiver, failed (dead letters), resent, retrying, and the seconds from receipt to delivery
and to the receiver's Acknowledgement (p50, p99), as a ``Parameters`` resource (one ``group`` per triple).

``GET  /fhir/$mailbox?receiver=<GLN>[&_since=&_count=]``  the receiver's letters (see
:mod:`bindeled.messaging.delivery.mailbox`) as a searchset Bundle of message Bundles. Only a system of the
organisation the endpoint register names for that GLN (by SOR code), an administrator or an operator.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...errors import Forbidden, InvalidRequest, NotFound
from ...fhir import jsonio
from ...messaging.delivery.alerts import failure_counts
from ...messaging.delivery.deadletters import DeadLetter, dead_letters, replay
from ...messaging.delivery.mailbox import mailbox_letters
from ...messaging.delivery.statistics import DeliveryFigures, delivery_statistics
from ...messaging.hub.endpoints import find_endpoint
from ...security.guard import RequestGuard
from ...security.principal import Principal
from ...store.base import utc_now
from ...store.guard import current_guard
from ..bundling import searchset_bundle
from ..negotiation import instant_param
from ..rendering import fhir_response, read_resource
from ..services import base_url, services

__all__ = ["dead_letter_list", "delivery_statistics_report", "mailbox", "replay_dead_letter"]

_MAX_COUNT = 1000


def _principal() -> Principal | None:
    guard = current_guard()
    return guard.session.principal if isinstance(guard, RequestGuard) else None


def _is_operator(principal: Principal | None) -> bool:
    """Administrators and operators; None is the security-off benchmark mode (no gate)."""
    return principal is None or principal.admin or principal.user_type == "operator"


def _require_operator() -> str:
    principal = _principal()
    if not _is_operator(principal):
        raise Forbidden("Only administrators and operators may see and replay dead letters")
    return "system" if principal is None else principal.pseudonym()


def _whole(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= high:
        raise InvalidRequest(f"{name} is a whole number from 0 to {high}", location=(name,))
    return int(raw)


def _dead_letter_parameter(item: DeadLetter) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"name": "messageId", "valueString": item.message_id},
        {"name": "acknowledgement", "valueBoolean": item.is_acknowledgement},
        {"name": "envelopeId", "valueString": item.envelope_id},
        {"name": "messageType", "valueString": item.message_type},
        {"name": "senderGln", "valueString": item.sender_gln},
        {"name": "receiverGln", "valueString": item.receiver_gln},
        {"name": "received", "valueInstant": item.enqueued.isoformat()},
        {"name": "failed", "valueInstant": item.failed.isoformat()},
        {"name": "attempts", "valueInteger": item.attempts},
        {"name": "envelopes", "valueInteger": item.copies},
        {"name": "reason", "valueString": item.reason},
    ]
    return {"name": "deadLetter", "part": parts}


async def dead_letter_list(request: Request) -> Response:
    """``GET [base]/$dead-letters``."""
    _require_operator()
    svc = services(request)
    count = _whole(request, "_count", 100, _MAX_COUNT)
    offset = _whole(request, "_offset", 0, 10**9)
    letters = await dead_letters(svc.store, limit=count, offset=offset)
    parameters: list[dict[str, Any]] = [_dead_letter_parameter(item) for item in letters]
    parameters += [
        {"name": "failedSinceStart", "part": [{"name": kind, "valueInteger": n}]}
        for kind, n in sorted(failure_counts().items())
    ]
    return fhir_response(request, {"resourceType": "Parameters", "parameter": parameters}, svc.definitions)


def _group_parameter(figures: DeliveryFigures) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"name": "messageType", "valueString": figures.message_type},
        {"name": "senderGln", "valueString": figures.sender},
        {"name": "receiverGln", "valueString": figures.receiver},
    ]
    counts = {
        "letters": figures.letters,
        "delivered": figures.delivered,
        "acknowledged": figures.acknowledged,
        "failed": figures.failed,
        "resent": figures.resent,
        "retrying": figures.retrying,
    }
    parts += [{"name": name, "valueInteger": value} for name, value in counts.items()]
    times = {
        "deliverySecondsP50": figures.delivery_p50,
        "deliverySecondsP99": figures.delivery_p99,
        "acknowledgementSecondsP50": figures.acknowledgement_p50,
        "acknowledgementSecondsP99": figures.acknowledgement_p99,
    }
    parts += [{"name": name, "valueDecimal": round(value, 3)} for name, value in times.items() if value is not None]
    return {"name": "group", "part": parts}


async def delivery_statistics_report(request: Request) -> Response:
    """``GET [base]/$delivery-statistics``."""
    _require_operator()
    svc = services(request)
    end = instant_param(request.query_params.get("end"), "end") or utc_now()
    start = instant_param(request.query_params.get("start"), "start") or end - timedelta(days=1)
    if start >= end:
        raise InvalidRequest("start must be before end", location=("start",))
    figures = await delivery_statistics(svc.store, start=start, end=end)
    parameters: list[dict[str, Any]] = [
        {"name": "start", "valueInstant": start.isoformat()},
        {"name": "end", "valueInstant": end.isoformat()},
        *(_group_parameter(group) for group in figures),
    ]
    return fhir_response(request, {"resourceType": "Parameters", "parameter": parameters}, svc.definitions)


def _parameter(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [p for p in body.get("parameter") or () if isinstance(p, dict) and p.get("name") == name]
    if len(found) > 1:
        raise InvalidRequest(f"{name} is given more than once", location=("Parameters.parameter",))
    return found[0] if found else None


async def replay_dead_letter(request: Request) -> Response:
    """``POST [base]/$replay-dead-letter``."""
    operator = _require_operator()
    svc = services(request)
    body = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
    if body.get("resourceType") != "Parameters":
        raise InvalidRequest("$replay-dead-letter takes a Parameters resource", location=("resourceType",))
    message = _parameter(body, "messageId")
    message_id = (message or {}).get("valueString") or (message or {}).get("valueId")
    if not isinstance(message_id, str) or not message_id:
        raise InvalidRequest("messageId (valueString) is required", location=("Parameters.parameter",))
    ack = _parameter(body, "acknowledgement")
    is_ack = (ack or {}).get("valueBoolean", False)
    if not isinstance(is_ack, bool):
        raise InvalidRequest("acknowledgement takes valueBoolean", location=("Parameters.parameter",))
    if not await replay(svc.store, message_id, is_acknowledgement=is_ack, now=utc_now(), operator=operator):
        raise NotFound(f"No dead letter with message id {message_id}")
    result = {"resourceType": "Parameters", "parameter": [{"name": "replayed", "valueBoolean": True}]}
    return fhir_response(request, result, svc.definitions)


async def mailbox(request: Request) -> Response:
    """``GET [base]/$mailbox?receiver=<GLN>``."""
    svc = services(request)
    gln = request.query_params.get("receiver", "")
    if not gln.isdigit() or len(gln) != 13:
        raise InvalidRequest("receiver must be the receiving unit's 13-digit GLN", location=("receiver",))
    principal = _principal()
    if not _is_operator(principal):
        endpoint = await find_endpoint(svc.store, gln)
        sor = principal.organisation_sor if principal is not None and principal.user_type == "system" else None
        if endpoint is None or endpoint.mode != "mailbox" or not sor or endpoint.sor != sor:
            raise Forbidden("Only the receiving organisation's systems may read this mailbox")
    since = instant_param(request.query_params.get("_since"), "_since")
    count = _whole(request, "_count", svc.settings.default_page_size, svc.settings.max_page_size)
    letters = await mailbox_letters(svc.store, gln, since=since, limit=count)
    bundles = [jsonio.decode_stored(item.payload) for item in letters]
    links = [{"relation": "self", "url": str(request.url)}]
    if letters:
        last = letters[-1].delivered.isoformat()
        links.append({"relation": "next", "url": str(request.url.include_query_params(_since=last))})
    return fhir_response(request, searchset_bundle(base_url(request), bundles, [], None, links), svc.definitions)
