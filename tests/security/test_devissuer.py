"""bindeled's own issuer: a key per data folder, a JWKS, demo users, and tokens that pass real verification."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bindeled.security import DEMO_USERS, LocalIssuer, TokenRejected, TokenVerifier, demo_user, principal_from_claims
from bindeled.security.devissuer import KEY_FILE

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def issuer(folder: Path) -> LocalIssuer:
    return LocalIssuer(folder, "http://127.0.0.1:8080/dev-issuer", "http://127.0.0.1:8080/fhir")


def test_the_key_is_created_once_per_folder_and_kept_private(tmp_path: Path) -> None:
    first = issuer(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    again = issuer(tmp_path)
    assert first.kid == again.kid and first.jwks() == again.jwks()
    assert issuer(tmp_path / "other").kid != first.kid
    (key,) = first.jwks()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["kid"]) == ("EC", "P-256", "ES256", first.kid)
    assert "d" not in key


def test_a_non_ec_key_file_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / KEY_FILE).write_bytes(pem)
    with pytest.raises(ValueError, match="EC private key"):
        issuer(tmp_path)


@pytest.mark.parametrize("user", [u.username for u in DEMO_USERS])
def test_every_demo_user_gets_a_token_that_verifies_into_a_complete_principal(tmp_path: Path, user: str) -> None:
    local = issuer(tmp_path)
    token = local.mint(demo_user(user), now=NOW, purpose="ESP_APPOINTMENTS")
    claims, config = TokenVerifier([local.config()], clock=lambda: NOW).verified(token)
    principal = principal_from_claims(claims, allow_admin=config.admin_claims)
    assert principal.user_id == f"demo-{user}"
    assert principal.admin == (user == "admin")
    from bindeled.security import require_data_context

    require_data_context(principal)


def test_tokens_expire_and_other_issuers_keys_do_not_verify(tmp_path: Path) -> None:
    local = issuer(tmp_path / "a")
    token = local.mint(demo_user("gp"), now=NOW, lifetime=timedelta(minutes=5), emergency_reason="not_contactable")
    later = TokenVerifier([local.config(leeway_seconds=0)], clock=lambda: NOW + timedelta(minutes=6))
    with pytest.raises(TokenRejected, match="expired"):
        later.verify(token)
    stranger = issuer(tmp_path / "b")
    with pytest.raises(TokenRejected) as refused:
        TokenVerifier([stranger.config()], clock=lambda: NOW).verify(token)
    assert refused.value.details_code == "unknown_key"
    claims = TokenVerifier([local.config()], clock=lambda: NOW).verify(token)
    assert claims["emergency_reason"] == "not_contactable"


def test_unknown_demo_users_are_named(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="known: admin"):
        demo_user("mallory")


def test_a_demo_user_can_move_to_another_unit(tmp_path: Path) -> None:
    moved = demo_user("sosu").at("123459999999100", "Demo Hjemmepleje Vejle")
    assert (moved.claims["sor"], moved.claims["org_name"], moved.claims["name"]) == (
        "123459999999100",
        "Demo Hjemmepleje Vejle",
        "Sara Demo Hjælper",
    )
    assert demo_user("sosu").claims["sor"] == "12519999999100"
    with pytest.raises(ValueError, match="no organisation"):
        demo_user("citizen").at("123459999999100", "x")


def test_demo_staff_work_at_units_of_the_synthetic_sor_region() -> None:
    from bindeled.registry import synthetic_region

    units = {entity.sor_code for entity in synthetic_region().entities}
    staff = [u for u in DEMO_USERS if "sor" in u.claims]
    assert {u.username for u in staff} >= {"gp", "doctor", "nurse", "sosu", "secretary", "epidemiologist"}
    for user in staff:
        assert user.claims["sor"] in units, user.username


def test_there_is_a_demo_user_of_every_kind() -> None:
    kinds = {(u.claims["user_type"], u.claims.get("role")) for u in DEMO_USERS}
    assert ("trust_user", "secretary") in kinds
    assert ("hcp", "epidemiologist") in kinds
    assert ("operator", "platform_operator") in kinds
    citizens = [u for u in DEMO_USERS if u.claims["user_type"] == "citizen"]
    assert len(citizens) >= 2 and len({u.claims["cpr"] for u in citizens}) == len(citizens)
    assert demo_user("epidemiologist").claims["purpose"] == "SURVEILLANCE"
