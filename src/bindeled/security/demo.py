"""The registers of the demo: its users' authorisations and the trust agreement the helper works under.

Synthetic, like everything in the demo. In production the registers come from the authorisation
register import and the administrators' trust agreements (``register_store.py``); the demo puts its
own into the store with :func:`save_demo_registers`, so they can be changed through the admin API.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..store.base import Store
from .devissuer import DEMO_USERS
from .register_store import save_registers
from .registers import Authorisation, Registers, TrustAgreement

__all__ = ["DEV_AUDIENCE", "DEV_ISSUER", "demo_registers", "save_demo_registers"]

DEV_ISSUER = "urn:bindeled:dev-issuer"
"""The ``iss`` of tokens from bindeled's own development issuer (``bindeled token``)."""
DEV_AUDIENCE = "urn:bindeled:fhir"
"""The ``aud`` those tokens carry."""

_TRUST_PURPOSES = ("ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS")


def demo_registers(now: datetime | None = None) -> Registers:
    """Authorisations for every demo health professional; trust agreements for the helpers' units."""
    moment = now or datetime.now(UTC)
    authorisations = tuple(
        Authorisation(str(u.claims["authorisation_id"]), str(u.claims["education_code"]))
        for u in DEMO_USERS
        if "authorisation_id" in u.claims
    )
    agreements = tuple(
        TrustAgreement(
            id=f"demo-{u.username}-{purpose.lower()}",
            organisation_sor=str(u.claims["sor"]),
            system_name=str(u.claims["system_name"]),
            purpose=purpose,
            last_review=moment,
        )
        for u in DEMO_USERS
        if u.claims.get("user_type") == "trust_user"
        for purpose in _TRUST_PURPOSES
    )
    return Registers(authorisations=authorisations, trust_agreements=agreements)


async def save_demo_registers(store: Store, now: datetime | None = None) -> None:
    """Put the demo's registers into the store (``bindeled demo``), where administrators can then change them.

    Idempotent: the same ids each time, and the authorisation snapshot is replaced whole.
    """
    moment = now or datetime.now(UTC)
    names = {
        str(u.claims["authorisation_id"]): str(u.claims["name"]) for u in DEMO_USERS if "authorisation_id" in u.claims
    }
    await save_registers(store, demo_registers(moment), moment, names=names)
