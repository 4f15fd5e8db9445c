"""System clients: private_key_jwt assertions and the client-credentials exchange, through real verification."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bindeled.security import (
    LocalIssuer,
    MemoryJtiCache,
    OAuthRefused,
    RegisteredClient,
    TokenVerifier,
    exchange_client_credentials,
    parse_scopes,
    principal_from_claims,
)
from bindeled.security.clients import ASSERTION_TYPE

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TOKEN_URL = "https://bindeled.test/oauth/token"
CLIENT_KEY = ec.generate_private_key(ec.SECP384R1())


def client_jwks() -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(CLIENT_KEY.public_key()))
    return {"keys": [{**jwk, "kid": "lab-1", "alg": "ES384"}]}


LAB = RegisteredClient(
    "lab-system",
    client_jwks(),
    system_name="DemoLab",
    organisation_sor="900000000000200",
    allowed_scopes=parse_scopes("system/Observation.cruds system/DiagnosticReport.rs"),
    purposes=frozenset({"LAB_READ", "MESSAGING"}),
    system_version="4.2",
    organisation_name="Demo Sygehus",
)


def assertion(**changes: Any) -> str:
    claims = {
        "iss": "lab-system",
        "sub": "lab-system",
        "aud": TOKEN_URL,
        "exp": int((NOW + timedelta(minutes=4)).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, CLIENT_KEY, "ES384", {"kid": "lab-1"})


def form(**changes: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(),
        "scope": "system/Observation.rs",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path, "https://bindeled.test", "https://bindeled.test/fhir")


def exchange(issuer: LocalIssuer, data: dict[str, str], cache: MemoryJtiCache | None = None) -> dict[str, Any]:
    return exchange_client_credentials(
        data, {LAB.client_id: LAB}, issuer, token_url=TOKEN_URL, now=NOW, jti_cache=cache or MemoryJtiCache()
    )


def test_the_exchange_issues_a_token_for_a_system_principal(issuer: LocalIssuer) -> None:
    response = exchange(issuer, form(purpose="LAB_READ"))
    assert (response["token_type"], response["expires_in"], response["scope"]) == (
        "bearer",
        300,
        "system/Observation.rs",
    )
    claims, config = TokenVerifier([issuer.config(admin_claims=False)], clock=lambda: NOW).verified(
        response["access_token"]
    )
    principal = principal_from_claims(claims, allow_admin=config.admin_claims)
    assert (principal.user_type, principal.client_id, principal.system_name, principal.purpose) == (
        "system",
        "lab-system",
        "DemoLab",
        "LAB_READ",
    )
    assert principal.scopes.allows("Observation", "search", ("system",))
    assert not principal.scopes.allows("Observation", "create", ("system",))


def test_without_a_scope_the_registered_scopes_are_granted(issuer: LocalIssuer) -> None:
    response = exchange(issuer, form(scope=None))
    assert response["scope"] == "system/Observation.cruds system/DiagnosticReport.rs"


def code(fn: Any) -> str | None:
    with pytest.raises(OAuthRefused) as refused:
        fn()
    assert refused.value.body()["error"] == refused.value.details_code
    return refused.value.details_code


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (lambda: form(grant_type="password"), "unsupported_grant_type"),
        (lambda: form(client_assertion_type="urn:other"), "invalid_request"),
        (lambda: form(client_assertion=None), "invalid_request"),
        (lambda: form(client_assertion="garbage"), "invalid_client"),
        (lambda: form(client_assertion=assertion(iss="someone-else", sub="someone-else")), "invalid_client"),
        (lambda: form(client_id="other"), "invalid_client"),
        (lambda: form(client_assertion=assertion(sub="other")), "invalid_client"),
        (lambda: form(client_assertion=assertion(aud="https://elsewhere/token")), "invalid_client"),
        (lambda: form(client_assertion=assertion(exp=int((NOW - timedelta(minutes=5)).timestamp()))), "invalid_client"),
        (lambda: form(client_assertion=assertion(exp=int((NOW + timedelta(hours=1)).timestamp()))), "invalid_client"),
        (lambda: form(client_assertion=assertion(jti=None)), "invalid_client"),
        (lambda: form(scope="system/Patient.rs"), "invalid_scope"),
        (lambda: form(scope="user/Observation.rs"), "invalid_scope"),
        (lambda: form(scope="system/Observation.zz"), "invalid_scope"),
        (lambda: form(purpose="SURVEILLANCE"), "invalid_request"),
    ],
)
def test_refusals_use_oauth_error_codes(issuer: LocalIssuer, data: Any, expected: str) -> None:
    assert code(lambda: exchange(issuer, data())) == expected


def test_an_assertion_cannot_be_replayed(issuer: LocalIssuer) -> None:
    cache = MemoryJtiCache()
    data = form()
    exchange(issuer, data, cache)
    assert code(lambda: exchange(issuer, data, cache)) == "invalid_client"


def test_a_signature_by_another_key_is_refused(issuer: LocalIssuer) -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    forged = jwt.encode(
        {"iss": "lab-system", "sub": "lab-system", "aud": TOKEN_URL, "exp": int(NOW.timestamp()) + 60, "jti": "j"},
        other,
        "ES384",
        {"kid": "lab-1"},
    )
    assert code(lambda: exchange(issuer, form(client_assertion=forged))) == "invalid_client"
