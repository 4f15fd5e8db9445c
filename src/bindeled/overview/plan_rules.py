"""Shared plans (DOMAIN 4.13): a CarePlan owned by one organisation, with interventions any sector can read.

A *shared plan* is a CarePlan whose ``author`` is an Organization registered in SOR (the owner).
Its interventions are ``activity.detail`` entries with a ``code`` (e.g. FSIII), a SOR performer
(``detail.performer``, an Organization), a period (``detail.scheduledPeriod``) and a status. The
plan statuses of the domain map onto R4's required activity-status codes:

=====================  ===========================
planned                ``not-started``, ``scheduled``
active                 ``in-progress``
completed              ``completed``
cancelled              ``cancelled``
entered-in-error       ``entered-in-error``
=====================  ===========================

Other statuses (``on-hold``, ``stopped``, ``unknown``) are refused with 422 ``intervention_status_not_allowed``.
Only users of the owner's SOR subtree may create, change or delete a plan (403 ``not_plan_owner``);
reading crosses sectors under the gate as any other read. CarePlans without an owner are plain FHIR
CarePlans that only trusted jobs and administrators may write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Unprocessable
from ..fhir.jsonio import Resource
from ..store.repository import PendingWrite
from .principals import is_trusted, require_within
from .sor_units import UnitReader, read_reference, sor_code

__all__ = ["INTERVENTION_STATUSES", "PlanRules", "intervention_status"]

INTERVENTION_STATUSES = {
    "not-started": "planned",
    "scheduled": "planned",
    "in-progress": "active",
    "completed": "completed",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
}
"""R4 ``CarePlan.activity.detail.status`` → the shared plan's intervention status."""


def intervention_status(detail: dict[str, Any]) -> str | None:
    """The domain status of one intervention (None when the R4 status has no domain meaning)."""
    return INTERVENTION_STATUSES.get(str(detail.get("status")))


def _invalid(message: str, code: str, location: str) -> Unprocessable:
    return Unprocessable(message, details_code=code, location=(location,))


@dataclass(frozen=True)
class PlanRules:
    """The rule object registered with the repository for CarePlan writes."""

    reader: UnitReader

    async def owner(self, plan: Resource) -> str | None:
        """The SOR code of the plan's owning organisation (its SOR-registered author)."""
        return sor_code(await read_reference(self.reader, plan.get("author"), "Organization"))

    async def __call__(self, write: PendingWrite) -> Resource | None:
        if write.resource_type != "CarePlan":
            return None
        if write.before is not None:
            before_owner = await self.owner(write.before)
            if before_owner is not None:
                require_within(write.guard, (before_owner,), "this plan", "not_plan_owner")
        after = write.after
        if after is None:
            return None
        owner = await self.owner(after)
        if owner is None:
            if is_trusted(write.guard):
                return None
            raise _invalid(
                "A shared plan needs an owning organisation registered in SOR",
                "plan_owner_missing",
                "CarePlan.author",
            )
        require_within(write.guard, (owner,), "this plan", "not_plan_owner")
        for index, activity in enumerate(after.get("activity", ())):
            detail = activity.get("detail") if isinstance(activity, dict) else None
            if isinstance(detail, dict):
                await self._check_intervention(detail, f"CarePlan.activity[{index}].detail")
        return None

    async def _check_intervention(self, detail: dict[str, Any], where: str) -> None:
        if intervention_status(detail) is None:
            raise _invalid(
                "An intervention's status must be planned, active, completed, cancelled or entered-in-error",
                "intervention_status_not_allowed",
                f"{where}.status",
            )
        if not detail.get("code"):
            raise _invalid("An intervention needs a code (e.g. FSIII)", "intervention_code_missing", f"{where}.code")
        performers = [p for p in detail.get("performer", ()) if isinstance(p, dict)]
        units = [sor_code(await read_reference(self.reader, p, "Organization")) for p in performers]
        if not any(units):
            raise _invalid(
                "An intervention's performer must be a SOR-registered organisation",
                "intervention_performer_not_sor",
                f"{where}.performer",
            )
