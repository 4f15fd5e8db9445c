"""The rollout register: what cannot be derived — an organisation's planned go-live and whether it is live.

One entry per (organisation SOR code, service) in ``rollout_plan``. Administrators manage it through
``/fhir/$rollout-plans`` (audited by the gate like every request); everything else in the rollout
view is derived from the SOR register, the security registers and the hub.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import msgspec

from ...errors import InvalidRequest
from ...security.audit import format_instant
from ...store.base import Store
from .services import service_named

__all__ = ["PlanBody", "RolloutPlan", "RolloutRegister", "decode_plan"]

_SOR = re.compile(r"\d{11,18}\Z")
_UPSERT = (
    "INSERT INTO rollout_plan (organisation_sor, service, planned_go_live, live, note, updated) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (organisation_sor, service) DO UPDATE SET "
    "planned_go_live = excluded.planned_go_live, live = excluded.live, note = excluded.note, updated = excluded.updated"
)
_EXISTS = "SELECT 1 FROM rollout_plan WHERE organisation_sor = $1 AND service = $2"
_DELETE = "DELETE FROM rollout_plan WHERE organisation_sor = $1 AND service = $2 RETURNING 1"
_ALL = (
    "SELECT organisation_sor, service, planned_go_live, live, note, updated FROM rollout_plan "
    "ORDER BY organisation_sor, service"
)


class PlanBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What an administrator sends: ``{"planned_go_live": "2027-03-01", "live": false, "note": "..."}``."""

    planned_go_live: date | None = None
    live: bool = False
    note: str = ""


class RolloutPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One organisation's plan for one service."""

    organisation_sor: str
    service: str
    planned_go_live: date | None = None
    live: bool = False
    note: str = ""
    updated: str = ""
    """When the entry was last changed (UTC instant)."""


def _bad(message: str, field: str) -> InvalidRequest:
    return InvalidRequest(message, location=(field,), details_code="invalid_rollout_plan")


def decode_plan(organisation_sor: str, service: str, body: bytes) -> RolloutPlan:
    """A checked plan from the URL's organisation and service and a JSON body."""
    if not _SOR.match(organisation_sor):
        raise _bad("The organisation is a SOR code of 11-18 digits", "organisation")
    if service_named(service) is None:
        raise _bad("Unknown service; known: overview, messaging, lab", "service")
    try:
        found = msgspec.json.decode(body, type=PlanBody)
    except msgspec.ValidationError as exc:
        field = re.search(r"`\$\.(\w+)`", str(exc))
        raise _bad(f"The entry is malformed: {exc}", field.group(1) if field else "body") from None
    except msgspec.DecodeError:
        raise _bad("The body is not valid JSON", "body") from None
    if len(found.note) > 500:
        raise _bad("A note is at most 500 characters", "note")
    return RolloutPlan(
        organisation_sor=organisation_sor,
        service=service,
        planned_go_live=found.planned_go_live,
        live=found.live,
        note=found.note,
    )


class RolloutRegister:
    """The ``rollout_plan`` table on a store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def plans(self) -> list[RolloutPlan]:
        rows = await self.store.fetch_all(_ALL)
        return [
            RolloutPlan(
                organisation_sor=str(sor),
                service=str(service),
                planned_go_live=date.fromisoformat(str(planned)) if planned else None,
                live=bool(live),
                note=str(note),
                updated=str(updated),
            )
            for sor, service, planned, live, note, updated in rows
        ]

    async def put(self, plan: RolloutPlan, now: datetime) -> bool:
        """Store the plan; True when it is new."""
        planned = plan.planned_go_live.isoformat() if plan.planned_go_live else None
        async with self.store.transaction() as tx:
            existed = bool(await tx.fetch_all(_EXISTS, (plan.organisation_sor, plan.service)))
            values = (plan.organisation_sor, plan.service, planned, int(plan.live), plan.note, format_instant(now))
            await tx.fetch_all(_UPSERT, values)
        return not existed

    async def delete(self, organisation_sor: str, service: str) -> bool:
        async with self.store.transaction() as tx:
            return bool(await tx.fetch_all(_DELETE, (organisation_sor, service)))
