"""System clients: OAuth2 client credentials with ``private_key_jwt`` (the SMART Backend Services pattern).

A system registers its public keys with bindeled (:class:`RegisteredClient`). To get an access token
it posts a form to ``/oauth/token`` with ``grant_type=client_credentials``, a ``client_assertion``
JWT signed with its private key (``iss`` = ``sub`` = its client id, ``aud`` = the token URL, a unique
``jti``, at most five minutes of life) and the ``system/`` scopes it wants. :func:`exchange_client_credentials`
is that endpoint as a pure function of the form: it verifies the assertion, grants the requested
scopes the registration allows, and returns the token response, with the access token signed by
bindeled's :class:`~.devissuer.LocalIssuer`. Failures are :class:`~.errors.OAuthRefused` with the
RFC 6749 error code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import jwt

from .devissuer import LocalIssuer
from .errors import OAuthRefused, TokenRejected
from .scopes import ResourceScope, ScopeSet, parse_scopes
from .tokens import ASYMMETRIC_ALGORITHMS, IssuerConfig, StaticJwks, TokenVerifier

__all__ = [
    "ASSERTION_TYPE",
    "JtiCache",
    "MemoryJtiCache",
    "RegisteredClient",
    "exchange_client_credentials",
    "verify_client_assertion",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A system registered with bindeled, with its public keys and what it may ask for."""

    client_id: str
    jwks: Mapping[str, Any]
    system_name: str
    organisation_sor: str
    allowed_scopes: ScopeSet
    """The ``system/`` scopes the client may be granted."""
    purposes: frozenset[str] = frozenset()
    """Purposes of use the client may state; the first one sorted is the default when it states none."""
    system_version: str | None = None
    organisation_name: str | None = None
    active: bool = True


class JtiCache(Protocol):
    """Remembers assertion ids until they expire, so an assertion cannot be replayed."""

    def first_use(self, client_id: str, jti: str, expires: datetime, now: datetime) -> bool:
        """Record ``jti``; False if it was seen before (and has not expired)."""
        ...


@dataclass
class MemoryJtiCache:
    """A :class:`JtiCache` in a dict (one process; a shared cache would sit in the database or NATS KV)."""

    _seen: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def first_use(self, client_id: str, jti: str, expires: datetime, now: datetime) -> bool:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
        if (client_id, jti) in self._seen:
            return False
        self._seen[(client_id, jti)] = expires
        return True


def verify_client_assertion(
    assertion: str, client: RegisteredClient, token_url: str, now: datetime, jti_cache: JtiCache
) -> dict[str, Any]:
    """The verified claims of a client's assertion; raises ``invalid_client``."""
    config = IssuerConfig(client.client_id, (token_url,), StaticJwks(client.jwks), ASYMMETRIC_ALGORITHMS, 60)
    try:
        claims = TokenVerifier([config], clock=lambda: now).verify(assertion)
    except TokenRejected as exc:
        raise OAuthRefused(f"The client assertion was rejected ({exc.details_code})", "invalid_client") from exc
    if claims.get("sub") != client.client_id:
        raise OAuthRefused("The assertion's sub must be the client id", "invalid_client")
    jti, exp = claims.get("jti"), datetime.fromtimestamp(float(claims["exp"]), now.tzinfo)
    if not isinstance(jti, str) or not jti:
        raise OAuthRefused("The assertion has no jti", "invalid_client")
    if exp - now > MAX_ASSERTION_LIFETIME:
        raise OAuthRefused("The assertion lives longer than five minutes", "invalid_client")
    if not jti_cache.first_use(client.client_id, jti, exp, now):
        raise OAuthRefused("The assertion was used before", "invalid_client")
    return claims


def _within(scope: ResourceScope, allowed: ScopeSet) -> bool:
    return scope.context == "system" and any(
        a.context == "system" and a.resource_type in ("*", scope.resource_type) and scope.permissions <= a.permissions
        for a in allowed.resources
    )


def _granted(requested: str | None, client: RegisteredClient) -> ScopeSet:
    if not requested:
        return client.allowed_scopes
    try:
        asked = parse_scopes(requested)
    except TokenRejected as exc:
        raise OAuthRefused("The requested scope is malformed", "invalid_scope") from exc
    granted = tuple(s for s in asked.resources if _within(s, client.allowed_scopes))
    if not granted:
        raise OAuthRefused("None of the requested scopes is allowed for this client", "invalid_scope")
    return ScopeSet(granted)


def _client(form: Mapping[str, str], clients: Mapping[str, RegisteredClient]) -> tuple[str, RegisteredClient]:
    if form.get("grant_type") != "client_credentials":
        raise OAuthRefused("Only the client_credentials grant is supported", "unsupported_grant_type")
    assertion = form.get("client_assertion")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
        raise OAuthRefused("A private_key_jwt client assertion is required", "invalid_request")
    try:
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise OAuthRefused("The client assertion is not a JWT", "invalid_client") from exc
    client = clients.get(str(issuer))
    named = form.get("client_id")
    if client is None or not client.active or (named is not None and named != client.client_id):
        raise OAuthRefused("Unknown or inactive client", "invalid_client")
    return assertion, client


def exchange_client_credentials(
    form: Mapping[str, str],
    clients: Mapping[str, RegisteredClient],
    issuer: LocalIssuer,
    *,
    token_url: str,
    now: datetime,
    jti_cache: JtiCache,
    lifetime: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """The token endpoint: a form in, an RFC 6749 token response out (or :class:`OAuthRefused`)."""
    assertion, client = _client(form, clients)
    verify_client_assertion(assertion, client, token_url, now, jti_cache)
    scopes = _granted(form.get("scope"), client)
    purpose = form.get("purpose") or (min(client.purposes) if client.purposes else None)
    if purpose is not None and purpose not in client.purposes:
        raise OAuthRefused("The client may not state that purpose of use", "invalid_request")
    claims: dict[str, Any] = {
        "sub": client.client_id,
        "client_id": client.client_id,
        "user_type": "system",
        "system_name": client.system_name,
        "sor": client.organisation_sor,
        "scope": scopes.text(),
    }
    optional = {"system_version": client.system_version, "org_name": client.organisation_name, "purpose": purpose}
    claims.update({k: v for k, v in optional.items() if v})
    token = issuer.sign(claims, now=now, lifetime=lifetime)
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": int(lifetime.total_seconds()),
        "scope": scopes.text(),
    }
