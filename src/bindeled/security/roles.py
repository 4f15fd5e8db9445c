"""What a role may do beyond its user type: the purposes it may state and the data it never sees.

The purpose rules (``purposes.py``) say what a purpose reaches; the role rules narrow who may state
which purpose. A medical secretary works on appointments, master data and plans under her unit's
trust agreement, never on medication; an epidemiologist reads lab results and encounters only for
statutory surveillance (no treatment relation needed, blocks do not apply), never medication; a
platform operator runs the platform (dead letters, quarantine, indicators) and sees no citizen's data
(the policy hides it from every operator). Roles without a rule are limited by their user type only.

Kept as data, like the purpose rules, so a deployment can add its own roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .principal import Principal

__all__ = [
    "DEFAULT_ROLE_RULES",
    "MEDICATION_TYPES",
    "OPERATOR_ROLE",
    "RoleRule",
    "is_operator",
    "role_refusal",
]

MEDICATION_TYPES = frozenset(
    {"Medication", "MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration"}
)

OPERATOR_ROLE = "platform_operator"
"""The role of the people who run the platform (not administrators of the registers)."""


@dataclass(frozen=True, slots=True)
class RoleRule:
    """What one role may do."""

    purposes: frozenset[str] | None = None
    """Purposes of use the role may state; None: any the user type allows."""
    denied_types: frozenset[str] = frozenset()
    """Resource types the role never reaches, whatever the purpose."""


DEFAULT_ROLE_RULES: Mapping[str, RoleRule] = {
    "secretary": RoleRule(
        frozenset({"ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS"}),
        MEDICATION_TYPES,
    ),
    "epidemiologist": RoleRule(frozenset({"SURVEILLANCE"}), MEDICATION_TYPES),
    OPERATOR_ROLE: RoleRule(frozenset()),
}
"""The roles of the demo's staff that need more than their user type's limits."""


def role_refusal(principal: Principal, resource_type: str, rules: Mapping[str, RoleRule]) -> str | None:
    """The reason code when the principal's role forbids this purpose or type; None when it allows it."""
    rule = rules.get(principal.role or "")
    if rule is None:
        return None
    if rule.purposes is not None and principal.purpose is not None and principal.purpose not in rule.purposes:
        return "role_purpose_not_permitted"
    if resource_type in rule.denied_types:
        return "role_not_covering"
    return None


def is_operator(principal: Principal) -> bool:
    """Whether the principal may run the platform: an administrator or an operator (dead letters, quarantine …)."""
    return principal.admin or principal.user_type == "operator"
