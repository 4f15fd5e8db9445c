"""The browser session: a signed, HttpOnly, Secure, SameSite=Strict cookie holding the login and choices.

The cookie carries the bearer token the login minted, the chosen language, purposes of use, an
active emergency access and the CSRF token. It is signed with HMAC-SHA256 under a key kept in the
data folder (created on first use, owner-readable only), and expires after :data:`MAX_AGE` even if
the browser keeps it. Nothing in it is trusted without the signature; the token inside is verified
again by the security gate on every data access.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

__all__ = ["COOKIE_NAME", "MAX_AGE", "CookieSigner", "Emergency", "WebSession"]

COOKIE_NAME = "bindeled_session"
MAX_AGE = 8 * 3600
"""Seconds a session lives at most."""
KEY_FILE = "web-session-key"


class Emergency(msgspec.Struct, frozen=True):
    """Emergency access (værdispring) for one citizen, with its reason code, until an instant (epoch s)."""

    patient: str
    reason: str
    until: float


class _Payload(msgspec.Struct, frozen=True):
    csrf: str
    issued: float
    lang: str = "da"
    user: str | None = None
    token: str | None = None
    purposes: tuple[str, ...] = ()
    emergency: Emergency | None = None
    flash: str | None = None
    acting_for: str | None = None


@dataclass
class WebSession:
    """One browser's session; ``changed`` says the cookie must be sent again."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    issued: float = field(default_factory=time.time)
    lang: str = "da"
    user: str | None = None
    token: str | None = None
    purposes: tuple[str, ...] = ()
    emergency: Emergency | None = None
    flash: str | None = None
    changed: bool = False
    acting_for: str | None = None
    """A proxy's chosen citizen (their Patient id); None: the first one they represent."""

    def emergency_for(self, patient: str) -> Emergency | None:
        """The emergency access in force for this citizen, if any."""
        found = self.emergency
        return found if found is not None and found.patient == patient and found.until > time.time() else None

    def pop_flash(self) -> str | None:
        message, self.flash = self.flash, None
        if message is not None:
            self.changed = True
        return message

    def logged_out(self) -> WebSession:
        """A fresh session keeping only the language (a new CSRF token too)."""
        return WebSession(lang=self.lang, changed=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _load_or_create_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class CookieSigner:
    """Encodes sessions into signed cookie values and back."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the session key must be at least 16 bytes")
        self._key = key

    @classmethod
    def in_folder(cls, folder: Path) -> CookieSigner:
        return cls(_load_or_create_key(folder / KEY_FILE))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def dump(self, session: WebSession) -> str:
        data = _Payload(
            session.csrf,
            session.issued,
            session.lang,
            session.user,
            session.token,
            session.purposes,
            session.emergency,
            session.flash,
            session.acting_for,
        )
        payload = _b64(msgspec.json.encode(data))
        return f"{payload}.{self._sign(payload)}"

    def load(self, value: str | None) -> WebSession | None:
        """The session in a cookie value; None when absent, tampered with, malformed or expired."""
        if not value or "." not in value or len(value) > 8192:
            return None
        payload, _, signature = value.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            data = msgspec.json.decode(_unb64(payload), type=_Payload)
        except (ValueError, msgspec.DecodeError):
            return None
        if not 0 <= time.time() - data.issued <= MAX_AGE:
            return None
        return WebSession(
            data.csrf,
            data.issued,
            data.lang,
            data.user,
            data.token,
            data.purposes,
            data.emergency,
            data.flash,
            acting_for=data.acting_for,
        )
