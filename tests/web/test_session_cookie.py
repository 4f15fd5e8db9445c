"""The signed session cookie: round trip, tampering, expiry, and arbitrary input never trusted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.web.session_cookie import MAX_AGE, CookieSigner, Emergency, WebSession

SIGNER = CookieSigner(b"k" * 32)


def test_a_session_survives_the_round_trip() -> None:
    session = WebSession(lang="en", user="nurse", token="a.b.c", purposes=("ESP_PLANS",))
    session.emergency = Emergency("p1", "not_contactable", time.time() + 60)
    loaded = SIGNER.load(SIGNER.dump(session))
    assert loaded is not None
    assert (loaded.lang, loaded.user, loaded.token, loaded.purposes, loaded.csrf) == (
        "en",
        "nurse",
        "a.b.c",
        ("ESP_PLANS",),
        session.csrf,
    )
    assert loaded.emergency_for("p1") is not None and loaded.emergency_for("p2") is None


def test_a_changed_payload_or_another_key_is_refused() -> None:
    value = SIGNER.dump(WebSession(user="citizen"))
    payload, signature = value.rsplit(".", 1)
    forged = SIGNER.dump(WebSession(user="admin")).rsplit(".", 1)[0]
    assert SIGNER.load(f"{forged}.{signature}") is None
    assert CookieSigner(b"x" * 32).load(value) is None
    assert SIGNER.load(f"{payload}.{signature}") is not None


def test_an_old_session_expires() -> None:
    old = WebSession(issued=time.time() - MAX_AGE - 5)
    assert SIGNER.load(SIGNER.dump(old)) is None


def test_expired_emergency_access_no_longer_counts() -> None:
    session = WebSession(emergency=Emergency("p1", "not_contactable", time.time() - 1))
    assert session.emergency_for("p1") is None


def test_the_key_is_kept_in_the_data_folder_owner_readable(tmp_path: Path) -> None:
    first = CookieSigner.in_folder(tmp_path)
    value = first.dump(WebSession(user="gp"))
    assert CookieSigner.in_folder(tmp_path).load(value) is not None
    assert (tmp_path / "web-session-key").stat().st_mode & 0o777 == 0o600


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CookieSigner(b"short")


@given(st.text(max_size=300))
def test_arbitrary_cookie_values_are_never_trusted(value: str) -> None:
    assert SIGNER.load(value) is None


@given(st.binary(max_size=200))
def test_arbitrary_signed_payloads_load_or_are_refused_without_error(payload: bytes) -> None:
    import base64

    text = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    signed = f"{text}.{SIGNER._sign(text)}"
    loaded = SIGNER.load(signed)
    assert loaded is None or isinstance(loaded, WebSession)
