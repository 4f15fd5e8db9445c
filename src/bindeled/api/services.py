"""What a running API needs, built once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from ..config import Settings
from ..fhir.definitions import Definitions
from ..fhir.validation import Validator
from ..security import Gate, LocalIssuer, RegisteredClient, Registers
from ..security.loading import load_registers, registers_marker
from ..store.base import Store
from ..store.repository import Repository

__all__ = ["FHIR_BASE_PATH", "Services", "base_url", "services"]

FHIR_BASE_PATH = "/fhir"
"""Where the FHIR API is mounted; pages live beside it."""


@dataclass(frozen=True, slots=True)
class Services:
    """The settings, definitions, validator, store and repository of one process."""

    settings: Settings
    definitions: Definitions
    validator: Validator
    store: Store
    repo: Repository
    gate: Gate | None = None
    """The security gate; None only when ``enforce_security`` is off (benchmark baselines)."""
    issuer: LocalIssuer | None = None
    """bindeled's own development issuer (``--dev`` only)."""
    base_registers: Registers | None = None
    """The registers that do not live in the store (authorisation snapshot, trust agreements)."""
    token_service: LocalIssuer | None = None
    """bindeled's own token service for registered systems (``/oauth/token``)."""
    clients: dict[str, RegisteredClient] = field(default_factory=dict)
    """The registered systems by client id."""

    _marker: list[tuple[object, ...]] = field(default_factory=list)

    async def refresh_registers(self) -> None:
        """Rebuild the gate's registers from the stored Consents and SOR Organizations, when they changed."""
        if self.gate is None or self.base_registers is None:
            return
        marker = await registers_marker(self.store)
        if self._marker and self._marker[0] == marker:
            return
        self.gate.replace_registers(await load_registers(self.store, self.base_registers))
        self._marker[:] = [marker]


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def base_url(request: Request) -> str:
    """The FHIR base URL for links: the configured one, else this request's scheme and host."""
    configured = services(request).settings.base_url
    if configured:
        return configured.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}{FHIR_BASE_PATH}"
