"""The ASGI application — read this file as the table of contents of the HTTP surface.

Order of the layers, outside in: request id → error rendering → routes (``/fhir`` for the FHIR API).
Start-up loads the definitions, builds the validator and search indexer, opens the store (running
migrations) and keeps them in :class:`~bindeled.api.services.Services`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings, TrustedIssuer
from ..errors import BindeledError, MethodNotAllowed, NotFound
from ..fhir import jsonio
from ..fhir.definitions import load_definitions
from ..fhir.outcome import from_error, operation_outcome
from ..fhir.validation import Validator
from ..logs import request_id_var
from ..messaging.hub.register_rules import endpoint_register_rule
from ..overview.address_mask import AddressProtectionMask, AddressSearchHide
from ..overview.rules import overview_write_rules
from ..security import (
    Gate,
    IssuerConfig,
    LocalIssuer,
    PolicySettings,
    Registers,
    RemoteJwks,
    StaticJwks,
    TokenVerifier,
)
from ..security.audit_queue import audit_sink_for
from ..security.demo import DEV_AUDIENCE, DEV_ISSUER, demo_registers
from ..store.base import Store
from ..store.factory import open_store
from ..store.guard import as_system
from ..store.repository import Repository
from ..store.search import SearchIndexer
from ..web import MetricsMiddleware, ServiceMetrics, web_routes
from .negotiation import FHIR_JSON
from .oauth import registered_clients, token_endpoint, token_service
from .operations.registers import client_token_service
from .rendering import fhir_response
from .rest import routes as fhir_routes
from .services import FHIR_BASE_PATH, Services
from .subscriptions import subscription_websocket_route
from .subscriptions.headers import redact_other_writes
from .workers import running_workers

__all__ = ["build_services", "create_app"]

log = logging.getLogger("bindeled.api")
access_log = logging.getLogger("bindeled.access")


def build_services(settings: Settings) -> Services:
    """Everything a process needs, not yet opened."""
    definitions = load_definitions(settings.fhir_package_cache, settings.fhir_definitions_dir)
    validator = Validator(definitions)
    for folder in settings.fhir_profile_packages:
        validator.add_package(Path(folder).expanduser())
    own_base = settings.base_url.rstrip("/") or None
    store = open_store(settings.database_url, indexer=SearchIndexer(definitions, base_url=own_base))
    repo = Repository(store, definitions, validator, base_url=own_base)
    repo.write_rules.extend(overview_write_rules(store, settings.overview_legal_bases))
    repo.write_rules.append(endpoint_register_rule)
    repo.write_rules.append(redact_other_writes)  # Subscriptions keep their header secrets out of the store
    repo.read_masks.append(AddressProtectionMask(repo))
    repo.search_hides.append(AddressSearchHide(repo))
    issuer = LocalIssuer(Path(settings.data_dir), DEV_ISSUER, DEV_AUDIENCE) if settings.dev else None
    tokens = token_service(settings) or client_token_service(settings)
    gate = build_gate(settings, store, issuer, tokens) if settings.enforce_security else None
    if gate is not None:
        repo.write_rules.append(gate.citizens.write_rule)  # Patient writes forget the cached CPR number
    base = gate.registers if gate is not None else None
    return Services(
        settings, definitions, validator, store, repo, gate, issuer, base, tokens, registered_clients(settings)
    )


def _issuer_config(trusted: TrustedIssuer) -> IssuerConfig:
    keys = (
        RemoteJwks(trusted.jwks_uri)
        if trusted.jwks_uri
        else StaticJwks(json.loads(Path(trusted.jwks_file).read_text()))
    )
    return IssuerConfig(trusted.issuer, (trusted.audience,), keys, leeway_seconds=trusted.leeway_seconds)


def build_gate(settings: Settings, store: Store, issuer: LocalIssuer | None, tokens: LocalIssuer | None) -> Gate:
    """The security gate: configured issuers, bindeled's token service, and the development issuer with ``--dev``."""
    issuers = [_issuer_config(t) for t in settings.trusted_issuers]
    if tokens is not None:
        issuers.append(tokens.config(admin_claims=False))
    if issuer is not None:
        issuers.append(issuer.config(admin_claims=True))
    registers = demo_registers() if settings.dev else Registers()
    policy = PolicySettings(strict_treatment_relation=settings.strict_treatment_relation)
    sink = audit_sink_for(store, write_behind_ms=settings.audit_write_behind_ms, queue_limit=settings.audit_queue_limit)
    return Gate(TokenVerifier(issuers), registers, sink, policy)


class RequestIdMiddleware:
    """Gives every request an id (the client's ``X-Request-Id`` if sane) and writes the access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if given and len(given) <= 64 and given.replace("-", "").isalnum() else str(uuid.uuid4())
        token = request_id_var.set(request_id)

        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The path only: query strings carry search values (CPR numbers, names) and never reach the log.
            access_log.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={"status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            request_id_var.reset(token)


def _error_response(request: Request, error: BindeledError) -> Response:
    services: Services = request.app.state.services
    headers = (
        {"WWW-Authenticate": f'Bearer error="{error.details_code or "invalid_token"}"'} if error.status == 401 else None
    )
    try:
        return fhir_response(request, from_error(error), services.definitions, status=error.status, headers=headers)
    except BindeledError:
        # The client's Accept/_format could not be honoured either: answer in JSON.
        return fhir_response(
            request, from_error(error), services.definitions, status=error.status, headers=headers, fmt="json"
        )


async def _on_bindeled_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BindeledError)
    return _error_response(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: BindeledError
    if exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    else:
        error = NotFound(f"Nothing is served at {request.url.path}")
    return _error_response(request, error)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
    outcome = operation_outcome([])
    outcome["issue"] = [{"severity": "fatal", "code": "exception", "diagnostics": "An internal error occurred"}]
    return Response(content=jsonio.encode(outcome), status_code=500, media_type=FHIR_JSON)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The ASGI app. ``services`` may be given (tests share one store); otherwise built from settings."""
    svc = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await svc.store.open()
        with as_system():
            await svc.repo.load_search_parameters()
        await svc.refresh_registers()
        try:
            async with running_workers(svc):
                log.info("bindeled started", extra={"database": settings.database_url.split("://", 1)[0]})
                yield
        finally:
            await svc.store.close()

    async def dev_jwks(request: Request) -> Response:
        if svc.issuer is None:
            raise NotFound("The development issuer is off")
        return JSONResponse(svc.issuer.jwks())

    routes = [
        Route("/dev-issuer/jwks.json", dev_jwks),
        Route("/oauth/token", token_endpoint, methods=["POST"]),
        subscription_websocket_route(),  # before the /fhir mount, which would take the websocket scope
        Mount(FHIR_BASE_PATH, routes=fhir_routes()),
        *web_routes(),  # the pages, /metrics and /static, beside the API
    ]
    metrics = ServiceMetrics()
    app = Starlette(
        routes=routes,
        middleware=[Middleware(MetricsMiddleware, metrics=metrics, routes=routes), Middleware(RequestIdMiddleware)],
        exception_handlers={
            BindeledError: _on_bindeled_error,
            HTTPException: _on_http_error,
            Exception: _on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.metrics = metrics
    return app
