"""The security registers' admin API: the authorisation snapshot, trust agreements, delegations, treatment
relations, registered system clients, and the pending-verification flags.

Administrators only (403 ``admin_only``), except the pending-verification flags, which operators may
also follow up (403 ``operator_only``). Every call passes the security gate and leaves an AuditEvent;
a change is in force for the next request (the gate's registers are rebuilt from the store). Bodies and
answers are plain JSON (``application/json``); errors are OperationOutcomes.

=====================================================  ==========================================================
``POST /fhir/$import-authorisations``                  replace the authorisation snapshot with the posted file
                                                       (``text/csv`` or ``application/json``, format in
                                                       ``security/authorisation_import.py``); answers the counts
``GET  /fhir/$security-registers/authorisations``      the last import (``?authorisation_id=`` looks one up)
``GET  /fhir/$security-registers/{register}``          every entry of ``trust-agreements``, ``delegations``,
                                                       ``treatment-relations`` or ``clients``
``GET|PUT|DELETE /fhir/$security-registers/{r}/{id}``  one entry: read, create or replace (201 / 200), remove
``GET  /fhir/$pending-verifications``                  ``?status=open|resolved|all&_count=&_offset=``: flags of
                                                       accesses without a registered treatment relation, and
                                                       ``open`` (the alert counter)
``PUT  /fhir/$pending-verifications/{id}``             ``{"resolution": "..."}``: mark one followed up
=====================================================  ==========================================================

The entries' fields are documented on their types in ``security/register_documents.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...config import Settings
from ...errors import InvalidRequest, NotFound
from ...security.audit_queue import WriteBehindAuditSink, settle
from ...security.authorisation_import import parse_snapshot
from ...security.citizen_cache_follow import PatientWriteFollower
from ...security.devissuer import LocalIssuer
from ...security.guard import require_admin, require_operator
from ...security.pending import PendingStore, Status
from ...security.register_documents import REGISTER_NAMES, decode_document, document_view, register_kind
from ...security.register_store import RegisterStore
from ...store.base import utc_now
from ..rendering import read_body
from ..services import Services, services
from ..workers import background_task

__all__ = [
    "audit_writer",
    "authorisation_lookup",
    "citizen_cache_follower",
    "client_token_service",
    "import_authorisations",
    "pending_list",
    "pending_resolve",
    "register_entry",
    "register_list",
    "register_refresher",
    "routes",
    "stored_clients",
]

_JSON = "application/json"

log = logging.getLogger("bindeled.security")

_STATUSES: dict[str, Status] = {"open": "open", "resolved": "resolved", "all": "all"}


def routes() -> list[tuple[str, Any, list[str]]]:
    """This module's entries for ``feature_routes()`` (the fixed path before the parameterised one)."""
    return [
        ("/$import-authorisations", import_authorisations, ["POST"]),
        ("/$security-registers/authorisations", authorisation_lookup, ["GET"]),
        ("/$security-registers/{register}", register_list, ["GET"]),
        ("/$security-registers/{register}/{id}", register_entry, ["GET", "PUT", "DELETE"]),
        ("/$pending-verifications", pending_list, ["GET"]),
        ("/$pending-verifications/{id}", pending_resolve, ["PUT"]),
    ]


def _answer(body: object, status: int = 200) -> Response:
    return JSONResponse(msgspec.to_builtins(body), status_code=status, media_type=_JSON)


async def _changed(svc: Services) -> None:
    await svc.refresh_registers()
    await reload_clients(svc)


async def reload_clients(svc: Services) -> None:
    """The registered clients: those in the settings, plus (and overridden by) those in the store."""
    from ..oauth import registered_clients

    clients = {**registered_clients(svc.settings), **await RegisterStore(svc.store).clients()}
    svc.clients.clear()
    svc.clients.update(clients)


# -- the authorisation snapshot ----------------------------------------------------------------------


async def import_authorisations(request: Request) -> Response:
    require_admin()
    svc = services(request)
    data = await read_body(request, svc.settings.max_body_bytes)
    media = request.headers.get("content-type", "")
    rows = parse_snapshot(data, media)
    fmt = "csv" if media.split(";", 1)[0].strip().lower() == "text/csv" else "json"
    done = await RegisterStore(svc.store).import_authorisations(rows, fmt=fmt, data=data, now=utc_now())
    await _changed(svc)
    return _answer(done)


async def authorisation_lookup(request: Request) -> Response:
    require_admin()
    registers = RegisterStore(services(request).store)
    wanted = request.query_params.get("authorisation_id")
    if wanted is not None:
        return _answer({"authorisations": await registers.authorisation_rows(wanted)})
    return _answer({"last_import": await registers.last_import()})


# -- documents ---------------------------------------------------------------------------------------


def _register(request: Request) -> str:
    name = str(request.path_params["register"])
    if name not in REGISTER_NAMES:
        raise NotFound(f"There is no register {name!r}; known: {', '.join(REGISTER_NAMES)}")
    return name


async def register_list(request: Request) -> Response:
    require_admin()
    name = _register(request)
    entries = await RegisterStore(services(request).store).entries(name)
    return _answer({"register": name, "entries": [document_view(e) for e in entries]})


async def register_entry(request: Request) -> Response:
    require_admin()
    svc = services(request)
    name, id_ = _register(request), str(request.path_params["id"])
    registers = RegisterStore(svc.store)
    if request.method == "GET":
        found = await registers.get(name, id_)
        if found is None:
            raise NotFound(f"No entry {id_!r} in {name}")
        return _answer(document_view(found))
    if request.method == "DELETE":
        if not await registers.delete(name, id_):
            raise NotFound(f"No entry {id_!r} in {name}")
        await _changed(svc)
        return Response(status_code=204)
    doc = decode_document(register_kind(name), await read_body(request, svc.settings.max_body_bytes), id_)
    created = await registers.put(name, doc, utc_now())
    await _changed(svc)
    return _answer(document_view(doc), 201 if created else 200)


# -- pending-verification flags ----------------------------------------------------------------------


def _int(request: Request, name: str, default: int, top: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise InvalidRequest(f"{name} must be a non-negative integer", location=(name,))
    return min(int(value), top)


async def pending_list(request: Request) -> Response:
    require_operator()
    svc = services(request)
    if svc.gate is not None:
        await settle(svc.gate.sink)
    wanted = _STATUSES.get(request.query_params.get("status", "open"))
    if wanted is None:
        raise InvalidRequest("status must be open, resolved or all", location=("status",))
    flags = PendingStore(svc.store)
    count, offset = _int(request, "_count", 100, 1000), _int(request, "_offset", 0, 10**9)
    listing = await flags.listing(wanted, count, offset)
    return _answer({"open": await flags.open_count(), "flags": listing})


class _Resolution(msgspec.Struct, forbid_unknown_fields=True):
    resolution: str


async def pending_resolve(request: Request) -> Response:
    require_operator()
    svc = services(request)
    id_ = str(request.path_params["id"])
    if not id_.isdigit():
        raise NotFound(f"No pending-verification flag {id_!r}")
    try:
        body = msgspec.json.decode(await read_body(request, svc.settings.max_body_bytes), type=_Resolution)
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"Expected {{'resolution': text}}: {exc}", location=("resolution",)) from None
    if not body.resolution.strip() or len(body.resolution) > 500:
        raise InvalidRequest("The resolution is 1-500 characters", location=("resolution",))
    if svc.gate is not None:
        await settle(svc.gate.sink)
    flags = PendingStore(svc.store)
    if not await flags.resolve(int(id_), body.resolution.strip(), utc_now()):
        raise NotFound(f"No pending-verification flag {id_!r}")
    return _answer(await flags.get(int(id_)))


# -- server wiring -----------------------------------------------------------------------------------


def client_token_service(settings: Settings) -> LocalIssuer | None:
    """bindeled's token service for registered systems: always there while security is on, since an
    administrator can register a system at run time."""
    from ..oauth import TOKEN_AUDIENCE, TOKEN_SERVICE_ISSUER

    if not settings.enforce_security:
        return None
    return LocalIssuer(Path(settings.data_dir) / "token-service", TOKEN_SERVICE_ISSUER, TOKEN_AUDIENCE)


@asynccontextmanager
async def stored_clients(svc: Services) -> AsyncIterator[None]:
    """The server worker that loads the system clients registered through the API when the server starts."""
    await reload_clients(svc)
    yield


@asynccontextmanager
async def register_refresher(svc: Services) -> AsyncIterator[None]:
    """The server worker that picks up register changes made by other processes (``registers_refresh_seconds``)."""
    interval = svc.settings.registers_refresh_seconds
    if interval <= 0 or svc.gate is None:
        yield
        return

    seen = await RegisterStore(svc.store).version()

    async def loop() -> None:
        nonlocal seen
        while True:
            await asyncio.sleep(interval)
            try:
                await svc.refresh_registers()  # rebuilds only when the stored registers' fingerprint changed
                version = await RegisterStore(svc.store).version()
                if version != seen:
                    seen = version
                    await reload_clients(svc)
            except Exception:
                log.exception("refreshing the security registers failed; the last snapshot stays in force")

    async with background_task(loop(), "register-refresher"):
        yield


@asynccontextmanager
async def citizen_cache_follower(svc: Services) -> AsyncIterator[None]:
    """The server worker that forgets Patients other processes wrote (``citizen_cache_follow_seconds``)."""
    interval = svc.settings.citizen_cache_follow_seconds
    if interval <= 0 or svc.gate is None:
        yield
        return
    follower = PatientWriteFollower(svc.store, svc.gate.citizens)

    async def loop() -> None:
        while True:
            try:
                await follower.poll()
            except Exception:
                log.exception("following Patient writes failed; cached CPR numbers expire after their maximum age")
            await asyncio.sleep(interval)

    async with background_task(loop(), "citizen-cache-follower"):
        yield


@asynccontextmanager
async def audit_writer(svc: Services) -> AsyncIterator[None]:
    """The server worker that writes the queued audit records of reads (``security/audit_queue.py``)."""
    sink = svc.gate.sink if svc.gate is not None else None
    if not isinstance(sink, WriteBehindAuditSink):
        yield
        return
    async with sink.running():
        yield
