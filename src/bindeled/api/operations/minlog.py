"""The citizen's log (MinLog): ``GET /fhir/AuditEvent`` as a citizen or a proxy.

A citizen — or someone holding their power of attorney — searching AuditEvent gets their own MinLog
entries (and those of the citizens they represent), newest first, each the AuditEvent of one access
to their data with the full name of the person who looked (a name-protected staff member appears by
role and organisation only). ``_since`` narrows it to entries from that instant. Operators' audit
records are never served this way.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from ...security.guard import RequestGuard
from ...security.minlog import minlog_audit_event
from ...security.principal import Principal
from ...store.guard import current_guard
from ..bundling import searchset_bundle
from ..negotiation import instant_param
from ..rendering import fhir_response
from ..services import base_url, services

__all__ = ["is_citizen_request", "minlog_search"]

_CITIZEN_TYPES = frozenset({"citizen", "proxy"})


def _principal() -> Principal | None:
    guard = current_guard()
    return guard.session.principal if isinstance(guard, RequestGuard) else None


def is_citizen_request() -> bool:
    """Whether the current request comes from a citizen or a proxy (whose AuditEvent search is MinLog)."""
    principal = _principal()
    return principal is not None and principal.user_type in _CITIZEN_TYPES


def _entry_id(correlation_id: str, citizen: str, activity: str) -> str:
    """A stable id for one entry that does not contain the CPR number."""
    digest = hashlib.sha256(f"{correlation_id}|{citizen}|{activity}".encode()).hexdigest()
    return f"minlog-{digest[:40]}"


async def minlog_search(request: Request) -> Response:
    svc = services(request)
    principal = _principal()
    assert principal is not None and svc.gate is not None
    citizens = sorted({c for c in (principal.cpr, *principal.represents) if c})
    entries = []
    for citizen in citizens:
        entries += await svc.gate.sink.minlog(
            citizen, since=instant_param(request.query_params.get("_since"), "_since")
        )
    entries.sort(key=lambda e: e.time, reverse=True)
    events = [{**minlog_audit_event(e), "id": _entry_id(e.correlation_id, e.citizen, e.activity)} for e in entries]
    links = [{"relation": "self", "url": str(request.url)}]
    return fhir_response(request, searchset_bundle(base_url(request), events, [], len(events), links), svc.definitions)
