"""MinLog: the citizen's own log of who looked at or changed their data (not the operator audit log).

Each successful read, create, update or delete of a citizen's data yields exactly one
:class:`MinLogEntry` per citizen and activity within one request: a search returning forty
Observations of one citizen is one entry, not forty (:class:`MinLogCollector` does the grouping).
Data hidden by a block never reaches the collector, so a request that showed a citizen nothing
leaves them no entry. Entries are kept two years by default (:data:`MINLOG_RETENTION`).

Citizens and proxies read entries through :func:`minlog_view`, which withholds the name of a
name-protected staff member (L 182 of 2025) unless the viewer may see full names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from .audit import format_instant
from .principal import Principal

__all__ = [
    "MINLOG_RETENTION",
    "Activity",
    "MinLogCollector",
    "MinLogEntry",
    "activity_of",
    "minlog_audit_event",
    "minlog_view",
]

_ACTION = {"read": "R", "create": "C", "update": "U", "delete": "D"}
_CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
_SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"

MINLOG_RETENTION = timedelta(days=730)
"""How long citizens see their entries (two years), after which the purge job deletes them."""

Activity = Literal["read", "create", "update", "delete"]

_ACTIVITY: dict[str, Activity] = {
    "read": "read",
    "vread": "read",
    "history": "read",
    "search": "read",
    "create": "create",
    "update": "update",
    "patch": "update",
    "delete": "delete",
}


def activity_of(interaction: str) -> Activity:
    """The MinLog activity of a FHIR interaction."""
    return _ACTIVITY[interaction]


@dataclass(frozen=True, slots=True)
class MinLogEntry:
    """One line of a citizen's MinLog."""

    citizen: str
    activity: Activity
    time: datetime
    """Zoned."""
    correlation_id: str
    user_id: str
    user_full_name: str | None
    user_role: str | None
    organisation_sor: str | None
    organisation_name: str | None
    system_name: str | None
    purpose: str | None
    resource_types: tuple[str, ...] = ()
    emergency: bool = False
    emergency_reason: str | None = None
    responsible_user: str | None = None
    """For delegated acts: the responsible (delegating) user."""
    name_protected: bool = False

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("MinLog times must be timezone-aware")


@dataclass
class MinLogCollector:
    """Gathers the MinLog entries of one request: one per citizen and activity."""

    principal: Principal
    correlation_id: str
    _seen: dict[tuple[str, Activity], set[str]]

    def __init__(self, principal: Principal, correlation_id: str) -> None:
        self.principal, self.correlation_id, self._seen = principal, correlation_id, {}

    def add(self, citizen: str, interaction: str, resource_type: str) -> None:
        """Note that ``citizen``'s data was shown or changed by this request."""
        self._seen.setdefault((citizen, activity_of(interaction)), set()).add(resource_type)

    def __len__(self) -> int:
        return len(self._seen)

    def entries(self, now: datetime) -> list[MinLogEntry]:
        """The entries to write, in the order the citizens were first met."""
        p = self.principal
        return [
            MinLogEntry(
                citizen=citizen,
                activity=activity,
                time=now,
                correlation_id=self.correlation_id,
                user_id=p.user_id,
                user_full_name=p.full_name,
                user_role=p.role,
                organisation_sor=p.organisation_sor,
                organisation_name=p.organisation_name,
                system_name=p.system_name,
                purpose=p.purpose,
                resource_types=tuple(sorted(types)),
                emergency=p.emergency,
                emergency_reason=p.emergency_reason,
                responsible_user=p.responsible_user,
                name_protected=p.name_protected,
            )
            for (citizen, activity), types in self._seen.items()
        ]


def minlog_view(entry: MinLogEntry, *, full_names: bool = False) -> dict[str, Any]:
    """What a citizen (or proxy) is shown of one entry; a name-protected user appears by role and organisation."""
    hide = entry.name_protected and not full_names
    view: dict[str, Any] = {
        "time": format_instant(entry.time),
        "activity": entry.activity,
        "correlationId": entry.correlation_id,
        "role": entry.user_role,
        "organisation": {"sor": entry.organisation_sor, "name": entry.organisation_name},
        "system": entry.system_name,
        "purpose": entry.purpose,
        "resourceTypes": list(entry.resource_types),
        "emergency": entry.emergency,
    }
    if entry.emergency_reason:
        view["emergencyReason"] = entry.emergency_reason
    if not hide:
        view["user"] = {"id": entry.user_id, "name": entry.user_full_name}
        if entry.responsible_user:
            view["responsibleUser"] = entry.responsible_user
    return view


def _detail(name: str, value: str | None) -> list[dict[str, str]]:
    return [{"type": name, "valueString": value}] if value else []


def minlog_audit_event(entry: MinLogEntry, *, full_names: bool = False) -> dict[str, Any]:
    """An entry as the AuditEvent a citizen's ``AuditEvent`` search returns (only ever their own entries).

    Unlike the operator log this is *for* the citizen, so the staff member's name is in it, unless
    they are name-protected; the emergency reason and correlation id travel as entity details.
    """
    view = minlog_view(entry, full_names=full_names)
    agent: dict[str, Any] = {"requestor": True}
    if entry.user_role:
        agent["role"] = [{"text": entry.user_role}]
    if "user" in view:
        agent["who"] = {"identifier": {"value": entry.user_id}, "display": entry.user_full_name or entry.user_id}
    if entry.organisation_sor:
        org = {"identifier": {"system": _SOR_SYSTEM, "value": entry.organisation_sor}}
        agent["location"] = org | ({"display": entry.organisation_name} if entry.organisation_name else {})
    details = [
        *_detail("correlationId", entry.correlation_id),
        *_detail("emergencyReason", entry.emergency_reason),
        *_detail("responsibleUser", view.get("responsibleUser")),
        *_detail("resourceTypes", ",".join(entry.resource_types)),
    ]
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "action": _ACTION[entry.activity],
        "recorded": entry.time.isoformat(),
        "outcome": "0",
        "agent": [agent],
        "source": {"observer": {"display": entry.system_name or "unknown"}},
        "entity": [{"what": {"identifier": {"system": _CPR_SYSTEM, "value": entry.citizen}}, "detail": details}],
    }
    if entry.purpose:
        event["purposeOfEvent"] = [{"coding": [{"system": "urn:bindeled:purpose-of-use", "code": entry.purpose}]}]
    if entry.emergency:
        emergency = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT"}
        event.setdefault("purposeOfEvent", []).append({"coding": [emergency]})
    return event
