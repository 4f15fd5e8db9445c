"""The gate: from request headers to a :class:`~.principal.Principal`, and from a principal to a Session.

:class:`Gate` holds what every request shares (the token verifier, the current registers snapshot,
the audit sink, the policy settings, the clock). Its :meth:`Gate.authenticate` takes plain headers
(no ASGI types), so the API, the message hub and the CLI use the same door. A request that cannot
be authenticated still leaves an AuditEvent (:meth:`Gate.audit_unauthenticated`).

Headers read:

=============================  ==========================================================
``Authorization``              ``Bearer <JWT>``
``X-Purpose-Of-Use``           the purpose for this request (overrides the token's)
``X-Emergency-Access``         ``true`` asks for emergency access (værdispring) …
``X-Emergency-Reason``         … and this is its reason code (required with it)
=============================  ==========================================================
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import BindeledError
from ..store.base import Clock, utc_now
from .audit import build_audit_event
from .citizen_cache import CitizenCache
from .errors import TokenRejected
from .policy import PolicySettings
from .principal import Principal, principal_from_claims
from .registers import Registers
from .session import Session
from .sinks import AuditSink
from .tokens import TokenVerifier

__all__ = ["Gate", "Headers", "header_map"]

_PRINCIPAL_CACHE = 4096

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def header_map(headers: Headers) -> dict[str, str]:
    """Headers with lower-case names (the first value of a repeated header wins)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in pairs:
        found.setdefault(name.lower(), value)
    return found


def _bearer(headers: Mapping[str, str]) -> str:
    value = headers.get("authorization")
    if value is None:
        raise TokenRejected("The request carries no bearer token", "missing_token")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("The Authorization header must be 'Bearer <token>'", "invalid_token")
    return token.strip()


@dataclass
class Gate:
    """The one door to data."""

    verifier: TokenVerifier
    registers: Registers
    sink: AuditSink
    settings: PolicySettings = field(default_factory=PolicySettings)
    clock: Clock = field(default=utc_now)
    citizens: CitizenCache = field(default_factory=CitizenCache)
    """Patient → CPR, shared by this process's requests (its write rule belongs on the repository)."""

    _principals: OrderedDict[tuple[str, ...], Principal] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    def authenticate(self, headers: Headers) -> Principal:
        """The principal of a request; :class:`~.errors.TokenRejected` (401) or ``ContextMissing`` (400).

        The token is verified on every call (its signature from the verifier's cache, its times anew);
        the principal built from the same token and the same per-request headers is remembered.
        """
        found = header_map(headers)
        token = _bearer(found)
        claims, issuer = self.verifier.verified(token)
        request = {
            "purpose": found.get("x-purpose-of-use", ""),
            "emergency": found.get("x-emergency-access", "").lower(),
            "emergency_reason": found.get("x-emergency-reason", ""),
        }
        key = (token, *request.values())
        principal = self._principals.get(key)
        if principal is None:
            extra = {k: v for k, v in request.items() if v}
            principal = principal_from_claims(claims, extra, allow_admin=issuer.admin_claims)
            self._principals[key] = principal
            if len(self._principals) > _PRINCIPAL_CACHE:
                self._principals.popitem(last=False)
        else:
            self._principals.move_to_end(key)
        return principal

    def session(self, principal: Principal, correlation_id: str, request_id: str | None = None) -> Session:
        """The guard for one request of ``principal``."""
        return Session(
            principal,
            self.registers,
            self.sink,
            self.clock,
            correlation_id,
            settings=self.settings,
            request_id=request_id,
            citizens=self.citizens,
        )

    def replace_registers(self, registers: Registers) -> None:
        """Swap in a new registers snapshot (after an administrative change); sessions already open keep theirs."""
        self.registers = registers

    async def audit_unauthenticated(self, error: BindeledError, interaction: str, request_id: str | None) -> None:
        """The AuditEvent of a request refused before a principal existed (401, or 400 on the context)."""
        now = self.clock()
        event = build_audit_event(
            interaction=interaction,
            recorded=now,
            outcome="4",
            principal=None,
            reason=error.details_code or error.code,
            request_id=request_id,
        )
        await self.sink.append([event], [], recorded=now)
