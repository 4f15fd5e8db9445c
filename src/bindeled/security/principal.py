"""The access context: who is calling, for which organisation, with which system, for what purpose.

Nationally this arrives as a SOSI ID card and an HSUID header; here it comes from verified token
claims, optionally completed by per-request headers for what changes per call (purpose of use and
emergency access). :func:`principal_from_claims` turns claims into a frozen :class:`Principal`;
:func:`require_data_context` is rule 3.1: a data request whose context lacks a field the user type
needs is refused with 400 and a code naming what is missing, before anything is read or logged.

Claim names (bindeled's own issuer mints them; external issuers are mapped onto them):

=====================  =================================================================
``sub``                the acting user's id
``user_type``          citizen | proxy | hcp | trust_user | system | operator
``name``               full name
``role``               role code (e.g. ``nspSundAssistR2``, ``doctor``)
``authorisation_id``   Autorisations-ID (health professionals)
``education_code``     education code (7170 doctor, 5166 nurse, …)
``sor``                the organisation's SOR code; ``org_name`` its name
``system_name``        the calling system (fagsystem); ``system_version`` its version
``purpose``            purpose of use (see :data:`PURPOSES`)
``cpr``                a citizen's (or proxy's) own CPR number
``represents``         CPR numbers a proxy holds a power of attorney for
``responsible_user``   for delegated acts: the responsible user's authorisation id
``name_protected``     the user's name is withheld from MinLog views (L 182)
``emergency_reason``   emergency access (værdispring) and its reason
``admin``              an administrator with full access
``scope``              SMART scopes
=====================  =================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .errors import ContextMissing
from .scopes import ScopeSet, parse_scopes

__all__ = [
    "EMERGENCY_REASONS",
    "PURPOSES",
    "Principal",
    "UserType",
    "principal_from_claims",
    "require_data_context",
]

UserType = Literal["citizen", "proxy", "hcp", "trust_user", "system", "operator"]

PURPOSES = frozenset(
    {
        "ESP_APPOINTMENTS",
        "ESP_STAMKORT",
        "ESP_PLANS",
        "FMK_READ",
        "FMK_WRITE",
        "KIH_READ",
        "SJ_READ",
        "MESSAGING",
        "LAB_READ",
        "SURVEILLANCE",
    }
)
"""Known purposes of use (DOMAIN §3): appointments, master data, plans, medication, home monitoring, …"""

EMERGENCY_REASONS = frozenset({"citizen_consent", "not_contactable"})
"""Named værdispring reasons; other reasons are accepted if they are short codes (the list is extensible)."""

_REASON_CODE = re.compile(r"[a-z][a-z0-9_]{2,39}\Z")
_CPR = re.compile(r"\d{10}\Z")
_SOR = re.compile(r"\d{11,18}\Z")

_REQUIRED: dict[str, tuple[str, ...]] = {
    "citizen": ("cpr",),
    "proxy": ("cpr", "represents", "full_name"),
    "hcp": ("full_name", "role", "organisation_sor", "system_name", "authorisation_id"),
    "trust_user": ("full_name", "role", "organisation_sor", "system_name"),
    "system": ("system_name", "organisation_sor"),
    "operator": ("full_name",),
}
"""Context fields each user type needs for a data request (purpose is checked separately)."""

_PURPOSE_FREE: frozenset[str] = frozenset({"citizen", "proxy", "operator"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, on whose behalf, and why. Built once per request; never changed."""

    user_type: UserType
    user_id: str
    issuer: str = ""
    full_name: str | None = None
    role: str | None = None
    authorisation_id: str | None = None
    education_code: str | None = None
    organisation_sor: str | None = None
    organisation_name: str | None = None
    system_name: str | None = None
    system_version: str | None = None
    purpose: str | None = None
    cpr: str | None = None
    """The citizen's own CPR (citizens and proxies)."""
    represents: frozenset[str] = frozenset()
    """Citizens a proxy may act for."""
    responsible_user: str | None = None
    name_protected: bool = False
    emergency_reason: str | None = None
    """Set when emergency access (værdispring) is claimed for this request."""
    admin: bool = False
    client_id: str | None = None
    scopes: ScopeSet = field(default_factory=ScopeSet)

    @property
    def emergency(self) -> bool:
        return self.emergency_reason is not None

    def pseudonym(self) -> str:
        """What the application log may say about the caller: issuer-local id and user type, no name."""
        return f"{self.user_type}:{self.user_id}"


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ContextMissing(f"The {name!r} claim must be a string", "invalid_context_field", name)
    return str(value)


def _flag(claims: Mapping[str, Any], name: str) -> bool:
    value = claims.get(name, False)
    if not isinstance(value, bool):
        raise ContextMissing(f"The {name!r} claim must be true or false", "invalid_context_field", name)
    return value


def _user_type(claims: Mapping[str, Any]) -> UserType:
    value = claims.get("user_type")
    if value is None:
        raise ContextMissing("The access context names no user type", "missing_context_field", "user_type")
    if value not in get_args(UserType):
        raise ContextMissing("The access context names an unknown user type", "unknown_user_type", "user_type")
    found: UserType = value
    return found


def _purpose(value: str | None) -> str | None:
    if value is not None and value not in PURPOSES:
        raise ContextMissing("The purpose of use is not one this server knows", "unknown_purpose", "purpose")
    return value


def _emergency(value: str | None) -> str | None:
    if value is not None and not _REASON_CODE.match(value):
        raise ContextMissing("The emergency reason must be a reason code", "invalid_emergency_reason", "emergency")
    return value


def _represents(claims: Mapping[str, Any]) -> frozenset[str]:
    value = claims.get("represents", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and _CPR.match(v) for v in value):
        raise ContextMissing("The 'represents' claim must be a list of CPR numbers", "invalid_cpr", "represents")
    return frozenset(value)


def _checked(value: str | None, pattern: re.Pattern[str], code: str, name: str) -> str | None:
    if value is not None and not pattern.match(value):
        raise ContextMissing(f"The {name!r} claim is malformed", code, name)
    return value


def principal_from_claims(
    claims: Mapping[str, Any], request: Mapping[str, str] | None = None, *, allow_admin: bool = False
) -> Principal:
    """The principal of verified ``claims``; ``request`` may add ``purpose`` and ``emergency_reason`` per call.

    Emergency access asked for without a reason (``emergency`` true, or an empty reason) is refused
    here with ``missing_emergency_reason`` (rule 3.9). The ``admin`` claim counts only with
    ``allow_admin`` (an issuer bindeled controls).
    """
    extra = request or {}
    asked = claims.get("emergency") is True or extra.get("emergency") == "true"
    if asked and not (extra.get("emergency_reason") or claims.get("emergency_reason")):
        raise ContextMissing("Emergency access needs a reason", "missing_emergency_reason", "emergency_reason")
    sub = _text(claims, "sub")
    if sub is None:
        raise ContextMissing("The access context names no user", "missing_context_field", "sub")
    return Principal(
        user_type=_user_type(claims),
        user_id=sub,
        issuer=_text(claims, "iss") or "",
        full_name=_text(claims, "name"),
        role=_text(claims, "role"),
        authorisation_id=_text(claims, "authorisation_id"),
        education_code=_text(claims, "education_code"),
        organisation_sor=_checked(_text(claims, "sor"), _SOR, "invalid_sor", "sor"),
        organisation_name=_text(claims, "org_name"),
        system_name=_text(claims, "system_name"),
        system_version=_text(claims, "system_version"),
        purpose=_purpose(extra.get("purpose") or _text(claims, "purpose")),
        cpr=_checked(_text(claims, "cpr"), _CPR, "invalid_cpr", "cpr"),
        represents=_represents(claims),
        responsible_user=_text(claims, "responsible_user"),
        name_protected=_flag(claims, "name_protected"),
        emergency_reason=_emergency(extra.get("emergency_reason") or _text(claims, "emergency_reason")),
        admin=_flag(claims, "admin") and allow_admin,
        client_id=_text(claims, "client_id"),
        scopes=parse_scopes(claims.get("scope")),
    )


def require_data_context(principal: Principal) -> None:
    """Rule 3.1: refuse (400) a data request whose context lacks a field its user type needs."""
    if principal.admin:
        return
    if principal.purpose is None and principal.user_type not in _PURPOSE_FREE:
        raise ContextMissing("The request states no purpose of use", "missing_purpose", "purpose")
    for name in _REQUIRED[principal.user_type]:
        value = getattr(principal, name)
        if value is None or value == frozenset():
            raise ContextMissing(f"The access context lacks {name!r}", "missing_context_field", name)
