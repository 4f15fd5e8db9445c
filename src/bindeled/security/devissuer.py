"""bindeled's own small token issuer: a signing key kept in the data folder, its JWKS, and demo users.

Two uses. In development (``bindeled serve --dev``, implied by ``bindeled demo``) it signs tokens
for the demo users below (``bindeled token --as USER``), and tests use those tokens through the
real verification path: the issuer is just one more :class:`~.tokens.IssuerConfig`, trusted only
when enabled. And it signs the access tokens that ``/oauth/token`` hands to registered system
clients (``clients.py``).

The key is an EC P-256 key (ES256: small, fast to sign and verify), generated once per data folder
and stored as PKCS#8 PEM readable by the owner only. Its ``kid`` is the RFC 7638 thumbprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .tokens import IssuerConfig, StaticJwks

__all__ = ["DEMO_USERS", "DEV_ISSUER_PATH", "KEY_FILE", "DemoUser", "LocalIssuer", "demo_user"]

KEY_FILE = "issuer-key.pem"
"""The signing key's file name inside the data folder."""

DEV_ISSUER_PATH = "/dev-issuer"
"""Appended to the server's base URL to form the dev issuer's ``iss``."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace."""
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return _b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


def _load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path.name} does not hold an EC private key")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo user: a login name and the claims their tokens carry."""

    username: str
    claims: Mapping[str, Any]
    scope: str

    def at(self, organisation_sor: str, organisation_name: str) -> DemoUser:
        """The same user working at another unit (the demo binds its users to units of its SOR tree)."""
        if "sor" not in self.claims:
            raise ValueError(f"demo user {self.username!r} belongs to no organisation")
        claims = {**self.claims, "sor": organisation_sor, "org_name": organisation_name}
        return DemoUser(self.username, claims, self.scope)


_HCP_SCOPE = "openid fhirUser user/*.cruds"
_READ_SCOPE = "openid fhirUser user/*.rs"
_CITIZEN_SCOPE = "openid fhirUser patient/*.rs patient/Patient.u patient/RelatedPerson.cud patient/Consent.cud"
"""Citizens and proxies read their data, keep their card's editable part and manage their blocks and consents."""

# Units of the synthetic Region Syddanmark SOR tree (``registry/synthetic.py``, default seed), so the demo's
# users sit where the demo's SOR register puts them; ``tests/security/test_devissuer.py`` checks each one.
_GP_PRACTICE = ("17459999999100", "Lægerne Havnegade 106, Odense C")
_MEDICAL = ("10079999999100", "Odense Universitetshospital, Medicinsk afdeling, Odense")
_SURGICAL_CLINIC = ("10129999999100", "Odense Universitetshospital, Kirurgisk afdeling, ambulatorium")
_MICROBIOLOGY = ("10259999999100", "Odense Universitetshospital, Klinisk mikrobiologisk afdeling, Odense")
_HOME_NURSING = ("12559999999100", "Odense Kommune, Hjemmesygeplejen")
_HOME_CARE = ("12519999999100", "Odense Kommune, Hjemmeplejen Nord")


def _staff(
    username: str,
    user_type: str,
    name: str,
    role: str,
    unit: tuple[str, str],
    system: tuple[str, str],
    scope: str = _HCP_SCOPE,
    **extra: str,
) -> DemoUser:
    claims = {"user_type": user_type, "name": name, "role": role, "sor": unit[0], "org_name": unit[1]}
    claims |= {"system_name": system[0], "system_version": system[1], **extra}
    return DemoUser(username, claims, scope)


_EPJ, _HOSPITAL_EPJ, _CARE = ("DemoEPJ", "1.0"), ("DemoSP", "2.3"), ("DemoCare", "5.1")

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", {"user_type": "operator", "name": "Demo Administrator", "admin": True}, "system/*.cruds"),
    _staff(
        "gp",
        "hcp",
        "Gitte Demo Praktiserende",
        "doctor",
        _GP_PRACTICE,
        _EPJ,
        authorisation_id="GP7K2",
        education_code="7170",
    ),
    _staff(
        "doctor",
        "hcp",
        "Henrik Demo Overlæge",
        "doctor",
        _MEDICAL,
        _HOSPITAL_EPJ,
        authorisation_id="HD4M9",
        education_code="7170",
    ),
    _staff(
        "nurse",
        "hcp",
        "Nanna Demo Sygeplejerske",
        "nurse",
        _HOME_NURSING,
        _CARE,
        authorisation_id="NS3B8",
        education_code="5166",
    ),
    _staff("sosu", "trust_user", "Sara Demo Hjælper", "nspSundAssistR2", _HOME_CARE, _CARE),
    _staff("secretary", "trust_user", "Signe Demo Lægesekretær", "secretary", _SURGICAL_CLINIC, _HOSPITAL_EPJ),
    _staff(
        "epidemiologist",
        "hcp",
        "Erik Demo Epidemiolog",
        "epidemiologist",
        _MICROBIOLOGY,
        ("DemoSurveillance", "1.0"),
        _READ_SCOPE,
        authorisation_id="EP5R7",
        education_code="7170",
        purpose="SURVEILLANCE",
    ),
    DemoUser(
        "operator",
        {"user_type": "operator", "name": "Ole Demo Driftsoperatør", "role": "platform_operator"},
        _HCP_SCOPE,
    ),
    DemoUser("citizen", {"user_type": "citizen", "name": "Carl Demo Borger", "cpr": "6101709995"}, _CITIZEN_SCOPE),
    DemoUser("citizen2", {"user_type": "citizen", "name": "Dorthe Demo Borger", "cpr": "6203853712"}, _CITIZEN_SCOPE),
    DemoUser(
        "proxy",
        {
            "user_type": "proxy",
            "name": "Pia Demo Fuldmagt",
            "cpr": "6202759996",
            "represents": ["6101709995", "6203853712"],
        },
        _CITIZEN_SCOPE,
    ),
)
"""The demo users, one of every kind of caller (synthetic people). Their CPR numbers follow the
day+60 rule for synthetic numbers, so none can be a real person's. The staff
work at units of the synthetic SOR region; :meth:`DemoUser.at` moves a user to another unit."""


def demo_user(username: str) -> DemoUser:
    """The demo user with this name; ``KeyError`` names the known ones."""
    for user in DEMO_USERS:
        if user.username == username:
            return user
    raise KeyError(f"unknown demo user {username!r}; known: {', '.join(u.username for u in DEMO_USERS)}")


@dataclass(frozen=True)
class LocalIssuer:
    """Signs tokens with a key kept in ``folder`` (created on first use)."""

    folder: Path
    issuer: str
    """The ``iss`` of the tokens, e.g. ``http://127.0.0.1:8080/dev-issuer``."""
    audience: str
    """The ``aud`` of the tokens: this server's FHIR base URL."""
    _key: ec.EllipticCurvePrivateKey = field(init=False, repr=False)
    _jwk: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        key = _load_or_create_key(Path(self.folder) / KEY_FILE)
        jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": _thumbprint(jwk), "use": "sig", "alg": "ES256"})
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_jwk", jwk)

    @property
    def kid(self) -> str:
        return str(self._jwk["kid"])

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (served at ``<issuer>/jwks.json``)."""
        return {"keys": [dict(self._jwk)]}

    def config(self, *, admin_claims: bool = True, leeway_seconds: int = 60) -> IssuerConfig:
        """How the verifier trusts this issuer."""
        return IssuerConfig(
            self.issuer,
            (self.audience,),
            StaticJwks(self.jwks()),
            algorithms=("ES256",),
            leeway_seconds=leeway_seconds,
            admin_claims=admin_claims,
        )

    def sign(self, claims: Mapping[str, Any], *, now: datetime, lifetime: timedelta) -> str:
        """A signed JWT with ``claims`` plus ``iss``, ``aud``, ``iat``, ``exp`` and a fresh ``jti``."""
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(payload, self._key, algorithm="ES256", headers={"kid": self.kid})

    def mint(
        self,
        user: DemoUser,
        *,
        now: datetime,
        purpose: str | None = None,
        emergency_reason: str | None = None,
        lifetime: timedelta = timedelta(hours=1),
    ) -> str:
        """A bearer token for a demo user (``bindeled token --as USER [--purpose P]``)."""
        claims: dict[str, Any] = {**user.claims, "sub": f"demo-{user.username}", "scope": user.scope}
        if purpose:
            claims["purpose"] = purpose
        if emergency_reason:
            claims["emergency_reason"] = emergency_reason
        return self.sign(claims, now=now, lifetime=lifetime)
