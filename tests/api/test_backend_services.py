"""SMART Backend Services: a registered system signs an assertion with its own key, gets a token, uses it."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bindeled.config import Settings, SystemClient
from tests.api.conftest import LiveServer


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def system_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "lab-1", "alg": "ES256", "use": "sig"})
    path = tmp_path_factory.mktemp("client") / "jwks.json"
    path.write_text(json.dumps({"keys": [public]}))
    return key, path


@pytest.fixture(scope="module")
def system_server(
    tmp_path_factory: pytest.TempPathFactory, system_key: tuple[ec.EllipticCurvePrivateKey, Path]
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("backend")
    client = SystemClient(
        client_id="lab-system",
        jwks_file=str(system_key[1]),
        system_name="LabSys",
        organisation_sor="123456789012345",
        scopes="system/Observation.cruds system/Patient.rs",
        purposes=("LAB_READ",),
    )
    settings = Settings(
        database_url=f"sqlite:///{folder / 'b.db'}",
        port=_port(),
        log_json=False,
        data_dir=str(folder / "data"),
        clients=(client,),
    )
    with LiveServer(settings) as live:
        yield live


def _assertion(key: ec.EllipticCurvePrivateKey, audience: str, **overrides: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": "lab-system",
        "sub": "lab-system",
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=4)).timestamp()),
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "lab-1"})


def _form(assertion: str, scope: str = "system/Observation.rs") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }


def test_registered_system_gets_a_token_and_uses_it(
    system_server: LiveServer, system_key: tuple[ec.EllipticCurvePrivateKey, Path]
) -> None:
    root = system_server.base.removesuffix("/fhir")
    token_url = f"{root}/oauth/token"
    assertion = _assertion(system_key[0], token_url)
    response = httpx.post(token_url, data=_form(assertion))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and body["scope"] == "system/Observation.rs"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert httpx.get(f"{system_server.base}/Observation", headers=headers).status_code == 200
    # The granted scope allows reading Observations only.
    assert httpx.get(f"{system_server.base}/Encounter", headers=headers).status_code == 403
    # An assertion is good once.
    replay = httpx.post(token_url, data=_form(assertion))
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_client"


def test_bad_assertions_are_refused(system_server: LiveServer) -> None:
    root = system_server.base.removesuffix("/fhir")
    token_url = f"{root}/oauth/token"
    stranger = ec.generate_private_key(ec.SECP256R1())
    wrong_key = httpx.post(token_url, data=_form(_assertion(stranger, token_url)))
    assert wrong_key.status_code == 400 and wrong_key.json()["error"] == "invalid_client"
    assert httpx.post(token_url, data={"grant_type": "password"}).status_code == 400
    # Without a development issuer, nothing else is trusted: a forged "admin" token is refused.
    assert httpx.get(f"{system_server.base}/Patient", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
