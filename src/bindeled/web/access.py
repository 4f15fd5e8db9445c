"""Data access from a page: the same gate, guard, audit and MinLog as the FHIR API.

A page never reads the store on its own authority. :func:`data_access` turns the session's bearer
token (plus the purpose of use and any emergency access) into the headers the API would have seen,
lets the gate authenticate them, and runs the page's repository calls under a
:class:`~bindeled.security.guard.RequestGuard` — exactly what :func:`bindeled.api.rest.guarded` does
for an API request. Each use is one audited access with its own correlation id.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import Request

from ..api.services import services
from ..errors import BindeledError
from ..logs import request_id_var
from ..security.guard import RequestGuard
from ..security.principal import Principal, require_data_context
from ..store.guard import use_guard
from .session_cookie import Emergency, WebSession

__all__ = ["access_headers", "data_access", "principal_of"]


def access_headers(session: WebSession, purpose: str | None, emergency: Emergency | None) -> dict[str, str]:
    """The request headers an API client in the same situation would send."""
    headers: dict[str, str] = {}
    if session.token:
        headers["authorization"] = f"Bearer {session.token}"
    if purpose:
        headers["x-purpose-of-use"] = purpose
    if emergency is not None:
        headers["x-emergency-access"] = "true"
        headers["x-emergency-reason"] = emergency.reason
    return headers


def principal_of(request: Request, session: WebSession) -> Principal | None:
    """Who the session belongs to (verified token), or None when not logged in or the token no longer holds."""
    gate = services(request).gate
    if gate is None or not session.token:
        return None
    try:
        return gate.authenticate(access_headers(session, None, None))
    except BindeledError:
        return None


@asynccontextmanager
async def data_access(
    request: Request,
    session: WebSession,
    *,
    purpose: str | None = None,
    emergency: Emergency | None = None,
    interaction: str = "read",
) -> AsyncIterator[Principal]:
    """Repository calls inside the block pass the security gate as the session's user."""
    svc = services(request)
    if svc.gate is None:
        raise RuntimeError("the pages need the security gate (enforce_security)")
    request_id = request_id_var.get() or str(uuid.uuid4())
    try:
        principal = svc.gate.authenticate(access_headers(session, purpose, emergency))
        require_data_context(principal)
    except BindeledError as error:
        await svc.gate.audit_unauthenticated(error, interaction, request_id)
        raise
    guard = RequestGuard(svc.gate.session(principal, str(uuid.uuid4()), request_id), svc.store)
    with use_guard(guard):
        try:
            yield principal
        except BindeledError as error:
            await guard.finish(error.status, error=error)
            raise
        await guard.finish(200)
