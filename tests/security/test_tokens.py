"""Token verification: signature, issuer, audience, algorithm, expiry with clock skew — each with its own code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bindeled.security import IssuerConfig, StaticJwks, TokenRejected, TokenVerifier

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ISS, AUD = "https://idp.example/realms/sundhed", "https://bindeled.test/fhir"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(key: rsa.RSAPrivateKey, kid: str = "k1") -> dict[str, Any]:
    import json

    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": kid, "alg": "RS256", "use": "sig"}]}


def verifier(clock: datetime = NOW, **config: Any) -> TokenVerifier:
    issuer = IssuerConfig(ISS, (AUD,), StaticJwks(jwks(RSA_KEY)), **config)
    return TokenVerifier([issuer], clock=lambda: clock)


def token(key: Any = RSA_KEY, *, alg: str = "RS256", kid: str | None = "k1", **claims: Any) -> str:
    payload = {"iss": ISS, "aud": AUD, "sub": "u1", "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid} if kid else None)


def code(fn: Any) -> str | None:
    with pytest.raises(TokenRejected) as refused:
        fn()
    assert refused.value.status == 401
    assert "eyJ" not in refused.value.message
    return refused.value.details_code


def test_a_good_token_verifies() -> None:
    claims = verifier().verify(token(scope="user/*.rs"))
    assert (claims["sub"], claims["scope"]) == ("u1", "user/*.rs")


def test_a_single_key_may_be_chosen_without_kid() -> None:
    assert verifier().verify(token(kid=None))["sub"] == "u1"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: "not-a-jwt", "invalid_token"),
        (lambda: token(iss="https://evil.example"), "unknown_issuer"),
        (lambda: token(aud="https://other.example"), "invalid_audience"),
        (lambda: token(OTHER_KEY), "invalid_signature"),
        (lambda: token(kid="k9"), "unknown_key"),
        (lambda: token(exp=None), "invalid_token"),
        (lambda: token(sub=None), "invalid_token"),
        (lambda: token(exp="soon"), "invalid_token"),
        (lambda: token(b"a-shared-secret-of-enough-length!", alg="HS256"), "invalid_algorithm"),
        (
            lambda: jwt.encode({"iss": ISS, "aud": AUD, "sub": "u", "exp": 2**40}, None, algorithm="none"),
            "invalid_algorithm",
        ),
        (lambda: token(ec.generate_private_key(ec.SECP256R1()), alg="ES256"), "invalid_algorithm"),
    ],
)
def test_rejections_name_their_reason(make: Any, expected: str) -> None:
    assert code(lambda: verifier().verify(make())) == expected


def test_expiry_honours_the_clock_skew() -> None:
    expires = int(NOW.timestamp()) + 300
    good = token(exp=expires)
    assert verifier(NOW + timedelta(seconds=330)).verify(good)
    assert code(lambda: verifier(NOW + timedelta(seconds=361)).verify(good)) == "token_expired"
    assert code(lambda: verifier(NOW + timedelta(seconds=301), leeway_seconds=0).verify(good)) == "token_expired"


def test_tokens_from_the_future_are_refused() -> None:
    later = int(NOW.timestamp()) + 3600
    assert code(lambda: verifier().verify(token(nbf=later, exp=later + 60))) == "token_not_yet_valid"
    assert code(lambda: verifier().verify(token(iat=later, exp=later + 60))) == "token_not_yet_valid"
    assert verifier().verify(token(iat=int(NOW.timestamp()) + 30))


def test_a_maximum_lifetime_can_be_enforced() -> None:
    long = token(exp=int(NOW.timestamp()) + 86400)
    assert code(lambda: verifier(max_lifetime_seconds=3600).verify(long)) == "token_lifetime_too_long"


def test_a_bad_jwks_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="JWKS"):
        StaticJwks({"keys": [{"kty": "nonsense"}]})


def test_remote_jwks_failures_are_token_rejections(tmp_path: Path) -> None:
    from bindeled.security import RemoteJwks

    keys = RemoteJwks("http://127.0.0.1:9/jwks.json", timeout=0.5)
    issuer = IssuerConfig(ISS, (AUD,), keys)
    assert code(lambda: TokenVerifier([issuer], clock=lambda: NOW).verify(token())) == "jwks_unavailable"


def test_a_remembered_token_still_expires_and_the_cache_is_bounded() -> None:
    moment = [NOW]
    issuer = IssuerConfig(ISS, (AUD,), StaticJwks(jwks(RSA_KEY)), leeway_seconds=0)
    cached = TokenVerifier([issuer], clock=lambda: moment[0], cache_size=2)
    good = token()
    claims = cached.verify(good)
    claims["sub"] = "changed by the caller"
    assert cached.verify(good)["sub"] == "u1"
    moment[0] = NOW + timedelta(seconds=301)
    assert code(lambda: cached.verify(good)) == "token_expired"
    moment[0] = NOW
    for i in range(3):
        cached.verify(token(jti=str(i)))
    assert len(cached._cache) == 2
    uncached = TokenVerifier([issuer], clock=lambda: NOW, cache_size=0)
    uncached.verify(good)
    assert len(uncached._cache) == 0


def test_a_bad_signature_is_never_remembered() -> None:
    v = verifier()
    forged = token(OTHER_KEY)
    for _ in range(2):
        assert code(lambda: v.verify(forged)) == "invalid_signature"
    assert len(v._cache) == 0
