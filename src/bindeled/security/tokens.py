"""Bearer-token verification: which issuers are trusted, and is this JWT really theirs?

A token is checked against the issuer it names (``iss``), which must be configured: its signature
against that issuer's JWKS (the key chosen by ``kid``), the algorithm against the issuer's allowed
list (never ``none``, never HMAC with a public key), the audience, and ``exp`` / ``nbf`` / ``iat``
against an injected clock with a configured skew. PyJWT does the cryptography; the time checks are
ours so tests can travel in time. Every failure is a :class:`~.errors.TokenRejected` with a specific
code, and the token itself never appears in a message.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import jwt

from ..store.base import Clock, utc_now
from .errors import TokenRejected

__all__ = ["ASYMMETRIC_ALGORITHMS", "IssuerConfig", "KeySource", "RemoteJwks", "StaticJwks", "TokenVerifier"]

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Signature algorithms accepted by default: public-key ones only."""


class KeySource(Protocol):
    """Where an issuer's public keys come from."""

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The key with this ``kid`` (or the only key, when the token names none); raises ``unknown_key``."""
        ...


class StaticJwks:
    """Keys given as a JWKS document (configuration, the dev issuer, a registered client)."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        try:
            self._keys = jwt.PyJWKSet.from_dict(dict(jwks)).keys
        except jwt.PyJWTError as exc:
            raise ValueError(f"unusable JWKS: {exc}") from exc

    def key(self, kid: str | None) -> jwt.PyJWK:
        if kid is None and len(self._keys) == 1:
            return self._keys[0]
        for candidate in self._keys:
            if candidate.key_id == kid:
                return candidate
        raise TokenRejected("The token's signing key is not among the issuer's keys", "unknown_key")


class RemoteJwks:
    """Keys fetched from an issuer's ``jwks_uri`` and cached (PyJWT's client refetches on an unknown kid)."""

    def __init__(self, uri: str, *, cache_seconds: int = 300, timeout: float = 5.0) -> None:
        self._client = jwt.PyJWKClient(uri, lifespan=cache_seconds, timeout=timeout)

    def key(self, kid: str | None) -> jwt.PyJWK:
        try:
            if kid is None:
                keys = self._client.get_signing_keys()
                if len(keys) != 1:
                    raise TokenRejected("The token names no key and the issuer has several", "unknown_key")
                return keys[0]
            return self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise TokenRejected("The issuer's keys could not be fetched", "jwks_unavailable") from exc
        except jwt.PyJWKClientError as exc:
            raise TokenRejected("The token's signing key is not among the issuer's keys", "unknown_key") from exc


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """One trusted OpenID Connect issuer."""

    issuer: str
    """The exact ``iss`` value."""
    audiences: tuple[str, ...]
    """Accepted ``aud`` values (this server's identifiers); a token must name at least one."""
    keys: KeySource
    """The issuer's public keys."""
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    """Accepted ``alg`` values."""
    leeway_seconds: int = 60
    """Allowed clock skew for ``exp``, ``nbf`` and ``iat``."""
    max_lifetime_seconds: int | None = None
    """If set, a token whose ``exp - iat`` exceeds this is refused (``token_lifetime_too_long``)."""
    admin_claims: bool = False
    """Whether this issuer may make administrators (the ``admin`` claim); only for issuers bindeled controls."""


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies bearer tokens against the configured issuers.

    A signature check costs several hundred microseconds, more than the rest of a FHIR read, and
    clients send the same token many times: tokens whose signature verified are remembered (by a
    SHA-256 of the token, at most ``cache_size`` of them, least recently used dropped first), and a
    remembered token still has its times checked on every use, so it expires on time.
    """

    issuers: Sequence[IssuerConfig]
    clock: Clock = field(default=utc_now)
    cache_size: int = 4096
    _cache: OrderedDict[bytes, tuple[dict[str, Any], IssuerConfig]] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; raises :class:`TokenRejected` with a specific code."""
        return self.verified(token)[0]

    def verified(self, token: str) -> tuple[dict[str, Any], IssuerConfig]:
        """The verified claims of ``token`` and the configuration of the issuer that signed it."""
        key = hashlib.sha256(token.encode()).digest()
        found = self._cache.get(key)
        if found is None:
            found = self._verify_signature(token)
            self._remember(key, found)
        else:
            self._cache.move_to_end(key)
        claims, config = found
        _check_times(claims, self.clock(), config)
        return dict(claims), config

    def _remember(self, key: bytes, found: tuple[dict[str, Any], IssuerConfig]) -> None:
        if self.cache_size <= 0:
            return
        self._cache[key] = found
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _verify_signature(self, token: str) -> tuple[dict[str, Any], IssuerConfig]:
        header, unverified = _peek(token)
        config = self._issuer(unverified.get("iss"))
        alg = header.get("alg")
        if alg not in config.algorithms:
            raise TokenRejected("The token's algorithm is not accepted for its issuer", "invalid_algorithm")
        kid = header.get("kid")
        key = config.keys.key(kid if isinstance(kid, str) else None)
        return _decode(token, key, str(alg), config), config

    def _issuer(self, iss: object) -> IssuerConfig:
        for config in self.issuers:
            if config.issuer == iss:
                return config
        raise TokenRejected("The token's issuer is not trusted", "unknown_issuer")


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        unverified = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
        header, claims = unverified["header"], unverified["payload"]
    except (jwt.PyJWTError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TokenRejected("The bearer token is not a well-formed JWT", "invalid_token") from exc
    return header, claims


def _decode(token: str, key: jwt.PyJWK, alg: str, config: IssuerConfig) -> dict[str, Any]:
    options: Any = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["exp", "iss", "sub"]}
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[alg], audience=list(config.audiences), issuer=config.issuer, options=options
        )
    except jwt.InvalidAudienceError as exc:
        raise TokenRejected("The token is not meant for this server", "invalid_audience") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRejected(f"The token lacks the {exc.claim!r} claim", "invalid_token") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise TokenRejected("The token's algorithm does not fit its key", "invalid_algorithm") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("The token's signature does not verify", "invalid_signature") from exc
    except jwt.PyJWTError as exc:
        raise TokenRejected("The bearer token could not be verified", "invalid_token") from exc
    return claims


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"The {name!r} claim is not a number", "invalid_token")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: datetime, config: IssuerConfig) -> None:
    at, leeway = now.timestamp(), config.leeway_seconds
    exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
    if exp is None or at > exp + leeway:
        raise TokenRejected("The token has expired", "token_expired")
    if nbf is not None and at < nbf - leeway:
        raise TokenRejected("The token is not valid yet", "token_not_yet_valid")
    if iat is not None and at < iat - leeway:
        raise TokenRejected("The token was issued in the future", "token_not_yet_valid")
    limit = config.max_lifetime_seconds
    if limit is not None and exp - (iat if iat is not None else at) > limit:
        raise TokenRejected("The token's lifetime is longer than allowed", "token_lifetime_too_long")
