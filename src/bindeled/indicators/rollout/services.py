"""The services an organisation connects to, and which readiness checks each one needs.

=============  ============================  =====================================================
``overview``   Et Samlet Patientoverblik     SOR phones, trust agreement (municipalities), client
``messaging``  MedCom messages via the hub   SOR phones, system client, a passed test message
``lab``        MiBa laboratory results       trust agreement (municipalities), system client
=============  ============================  =====================================================

A trust agreement is needed only where non-authorised staff work under one (the municipalities'
social- and healthcare helpers); a region or a GP practice is ready without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CHECKS", "SERVICES", "Check", "Service", "service_named"]

Check = Literal["sor_phones", "trust_agreement", "system_client", "test_message"]
CHECKS: tuple[Check, ...] = ("sor_phones", "trust_agreement", "system_client", "test_message")


@dataclass(frozen=True, slots=True)
class Service:
    """One national service and what an organisation needs before it connects."""

    id: str
    purposes: frozenset[str]
    """The purposes of use the service's trust agreements and system clients must cover (any one of them)."""
    checks: tuple[Check, ...]


SERVICES: tuple[Service, ...] = (
    Service(
        "overview",
        frozenset({"ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS"}),
        ("sor_phones", "trust_agreement", "system_client"),
    ),
    Service("messaging", frozenset({"MESSAGING"}), ("sor_phones", "system_client", "test_message")),
    Service("lab", frozenset({"LAB_READ"}), ("trust_agreement", "system_client")),
)


def service_named(name: str) -> Service | None:
    return next((s for s in SERVICES if s.id == name), None)
