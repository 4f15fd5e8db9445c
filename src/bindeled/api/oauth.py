"""``POST /oauth/token``: SMART Backend Services — a registered system trades a signed assertion for a token.

The system authenticates with ``private_key_jwt`` (a JWT signed with its registered key, addressed to
this endpoint, used once); bindeled answers with a short-lived bearer token signed by its own token
service, which the gate trusts (never for administrator claims). Refusals follow RFC 6749 §5.2: a JSON
``error`` object and status 400, never cached.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..config import Settings, SystemClient
from ..security import LocalIssuer, MemoryJtiCache, RegisteredClient, exchange_client_credentials, parse_scopes
from ..security.errors import OAuthRefused
from .services import services

__all__ = ["TOKEN_AUDIENCE", "TOKEN_SERVICE_ISSUER", "registered_clients", "token_endpoint", "token_service"]

TOKEN_SERVICE_ISSUER = "urn:bindeled:token-service"
"""The ``iss`` of the tokens bindeled issues to registered systems."""
TOKEN_AUDIENCE = "urn:bindeled:fhir"

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_jti_cache = MemoryJtiCache()


def token_service(settings: Settings) -> LocalIssuer | None:
    """bindeled's own token service (a key in the data folder), when any system is registered."""
    if not settings.clients:
        return None
    return LocalIssuer(Path(settings.data_dir) / "token-service", TOKEN_SERVICE_ISSUER, TOKEN_AUDIENCE)


def _registered(client: SystemClient) -> RegisteredClient:
    return RegisteredClient(
        client_id=client.client_id,
        jwks=json.loads(Path(client.jwks_file).read_text()),
        system_name=client.system_name,
        organisation_sor=client.organisation_sor,
        allowed_scopes=parse_scopes(client.scopes),
        purposes=frozenset(client.purposes),
        system_version=client.system_version or None,
        organisation_name=client.organisation_name or None,
    )


def registered_clients(settings: Settings) -> dict[str, RegisteredClient]:
    return {c.client_id: _registered(c) for c in settings.clients}


def _token_url(request: Request) -> str:
    configured = services(request).settings.base_url
    if configured:
        return configured.rstrip("/").removesuffix("/fhir") + "/oauth/token"
    return f"{request.url.scheme}://{request.url.netloc}/oauth/token"


async def token_endpoint(request: Request) -> Response:
    svc = services(request)
    if svc.token_service is None:
        return JSONResponse(
            {"error": "unsupported_grant_type", "error_description": "No systems are registered"},
            status_code=400,
            headers=_NO_STORE,
        )
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        body = exchange_client_credentials(
            form,
            svc.clients,
            svc.token_service,
            token_url=_token_url(request),
            now=datetime.now(UTC),
            jti_cache=_jti_cache,
        )
    except OAuthRefused as refused:
        return JSONResponse(refused.body(), status_code=400, headers=_NO_STORE)
    return JSONResponse(body, headers=_NO_STORE)
