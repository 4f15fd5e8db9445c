"""The overview's write rules, registered with the repository at start-up (``api.app.build_services``)."""

from __future__ import annotations

from collections.abc import Sequence

from ..store.base import Store
from ..store.repository import WriteRule
from .appointment_rules import DEFAULT_LEGAL_BASES, AppointmentRules
from .patient_rules import patient_card_rule
from .plan_rules import PlanRules

__all__ = ["overview_write_rules"]


def overview_write_rules(store: Store, legal_bases: Sequence[str] = DEFAULT_LEGAL_BASES) -> list[WriteRule]:
    """The Aftaleoversigt's, the shared plans' and the card's rules."""
    return [AppointmentRules(store, tuple(legal_bases)), PlanRules(store), patient_card_rule]
