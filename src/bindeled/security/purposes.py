"""What each purpose of use covers: which resource types, whether writes, and which citizen rules apply.

Kept as data so a deployment can tighten or widen it without touching the policy code. ``Patient``
(the citizen's own record) is readable under every purpose that concerns a citizen, because every
other look-up starts from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_PURPOSE_RULES", "PurposeRule"]


@dataclass(frozen=True, slots=True)
class PurposeRule:
    """What one purpose of use allows."""

    resource_types: frozenset[str]
    """Resource types the purpose covers; ``*`` in the set: all."""
    writes: bool = False
    """Whether create, update, patch and delete are covered (else reads only)."""
    blocks_apply: bool = True
    """Citizens' blocks hide data under this purpose (statutory surveillance and message delivery: no)."""
    needs_relation: bool = True
    """Health-professional access needs treatment-relation evidence (§42a)."""
    education_codes: frozenset[str] = frozenset()
    """Writes need one of these education codes (FMK prescribing: doctors); empty: any authorised user."""
    sees_refused_display: bool = False
    """Reads include resources labelled ``refused`` for display (statutory surveillance only)."""

    def covers(self, resource_type: str) -> bool:
        return "*" in self.resource_types or resource_type in self.resource_types


def _types(*names: str) -> frozenset[str]:
    return frozenset(("Patient", *names))


_MEDICATION = (
    "Medication",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationDispense",
    "MedicationAdministration",
)

DEFAULT_PURPOSE_RULES: Mapping[str, PurposeRule] = {
    "ESP_APPOINTMENTS": PurposeRule(_types("Appointment", "Encounter", "Schedule", "Slot"), writes=True),
    "ESP_STAMKORT": PurposeRule(_types("RelatedPerson", "CareTeam", "Flag", "Consent"), writes=True),
    "ESP_PLANS": PurposeRule(_types("CarePlan", "Goal", "ServiceRequest", "Task", "Communication"), writes=True),
    "FMK_READ": PurposeRule(_types(*_MEDICATION)),
    "FMK_WRITE": PurposeRule(_types(*_MEDICATION), writes=True, education_codes=frozenset({"7170"})),
    "KIH_READ": PurposeRule(_types("Observation", "Device", "DeviceMetric", "QuestionnaireResponse", "Questionnaire")),
    "LAB_READ": PurposeRule(_types("DiagnosticReport", "Observation", "Specimen", "ServiceRequest")),
    "SJ_READ": PurposeRule(frozenset({"*"})),
    "MESSAGING": PurposeRule(frozenset({"*"}), writes=True, blocks_apply=False, needs_relation=False),
    "SURVEILLANCE": PurposeRule(
        _types("DiagnosticReport", "Observation", "Specimen", "Encounter", "EpisodeOfCare", "Procedure", "Condition"),
        blocks_apply=False,
        needs_relation=False,
        sees_refused_display=True,
    ),
}
"""The purposes of DOMAIN §3 and what they reach."""
