"""HospitalNotification: the 18 events and how a message says which one it is.

A HospitalNotification does not name its event; the event follows from the current Provenance's
activity (``admit-inpatient``, ``revise-…``, ``cancel-…``) and, for a death, from
``Patient.deceasedBoolean`` (the only death signal; MORS keeps the current activity). The table
below is MedCom's (DOMAIN §5.2): per event the allowed Encounter class and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ._json import as_list
from .messages import Entry, Message

__all__ = [
    "LEAVE_PERIOD_URL",
    "RULES",
    "Action",
    "Event",
    "EventRule",
    "Notification",
    "leave_period",
    "read_notification",
]


class Event(StrEnum):
    """The six base events of a hospital stay."""

    STAA = "STAA"
    """Start stay, acute ambulant."""
    STIN = "STIN"
    """Start stay, admitted."""
    STOR = "STOR"
    """Start leave."""
    SLOR = "SLOR"
    """End leave."""
    SLHJ = "SLHJ"
    """Discharged home."""
    MORS = "MORS"
    """Died."""


class Action(StrEnum):
    NEW = "new"
    REVISE = "revise"
    """RE_: a correction of an earlier event (wrong department or time)."""
    CANCEL = "cancel"
    """AN_: a cancellation undoing an earlier event (wrong CPR or stay type)."""


@dataclass(frozen=True, slots=True)
class EventRule:
    classes: frozenset[str]
    statuses: frozenset[str]


_BASE_ACTIVITY: dict[str, tuple[Event, str | None]] = {
    "admit-emergency": (Event.STAA, "EMER"),
    "admit-inpatient": (Event.STIN, "IMP"),
    "start-leave-inpatient": (Event.STOR, "IMP"),
    "end-leave-inpatient": (Event.SLOR, "IMP"),
    "discharge-emergency-home": (Event.SLHJ, "EMER"),
    "discharge-inpatient-home": (Event.SLHJ, "IMP"),
}

_ANY = frozenset({"EMER", "IMP"})
_LIVE = frozenset({"in-progress", "onleave", "finished"})


def _rule(classes: frozenset[str], *statuses: str) -> EventRule:
    return EventRule(classes, frozenset(statuses))


RULES: dict[tuple[Event, Action], EventRule] = {
    (Event.STAA, Action.NEW): _rule(frozenset({"EMER"}), "in-progress"),
    (Event.STAA, Action.REVISE): _rule(frozenset({"EMER"}), "in-progress"),
    (Event.STAA, Action.CANCEL): _rule(frozenset({"EMER"}), "entered-in-error"),
    (Event.STIN, Action.NEW): _rule(frozenset({"IMP"}), "in-progress"),
    (Event.STIN, Action.REVISE): _rule(frozenset({"IMP"}), "in-progress"),
    (Event.STIN, Action.CANCEL): _rule(frozenset({"IMP"}), "entered-in-error"),
    (Event.STOR, Action.NEW): _rule(frozenset({"IMP"}), "onleave"),
    (Event.STOR, Action.REVISE): _rule(frozenset({"IMP"}), "onleave"),
    (Event.STOR, Action.CANCEL): _rule(frozenset({"IMP"}), "in-progress"),
    (Event.SLOR, Action.NEW): _rule(frozenset({"IMP"}), "in-progress"),
    (Event.SLOR, Action.REVISE): _rule(frozenset({"IMP"}), "in-progress"),
    (Event.SLOR, Action.CANCEL): _rule(frozenset({"IMP"}), "onleave"),
    (Event.SLHJ, Action.NEW): _rule(_ANY, "finished"),
    (Event.SLHJ, Action.REVISE): _rule(_ANY, "finished"),
    (Event.SLHJ, Action.CANCEL): _rule(_ANY, "in-progress"),
    (Event.MORS, Action.NEW): _rule(_ANY, "finished"),
    (Event.MORS, Action.REVISE): _rule(_ANY, "finished"),
    (Event.MORS, Action.CANCEL): EventRule(_ANY, _LIVE),
}
"""Allowed Encounter class and status per event (18 combinations; AN_MORS: the previous status)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """What one HospitalNotification says happened."""

    event: Event
    action: Action
    activity: str
    encounter: Entry | None
    expected_class: str | None
    """The class the activity itself implies (``discharge-emergency-home`` ⇒ ``EMER``), if any."""
    message_id: str | None
    replaces: str | None
    """For RE_/AN_: the ``MessageHeader/<id>`` of the earlier message (from the Provenance entity)."""
    at: str | None
    """When the event happened (period.start, leavePeriod, period.end), as written."""
    episode_ids: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        prefix = {Action.NEW: "", Action.REVISE: "RE_", Action.CANCEL: "AN_"}[self.action]
        return prefix + self.event.value


def _split_activity(activity: str) -> tuple[Action, str]:
    for action in (Action.REVISE, Action.CANCEL):
        if activity.startswith(action.value + "-"):
            return action, activity[len(action.value) + 1 :]
    return Action.NEW, activity


def _deceased(message: Message) -> bool | None:
    patients = message.patients
    value = patients[0].resource.get("deceasedBoolean") if len(patients) == 1 else None
    return value if isinstance(value, bool) else None


def read_notification(message: Message) -> Notification | None:
    """The event a HospitalNotification carries, or None when its activity is not an HN activity."""
    activity = message.activity
    if activity is None:
        return None
    action, base = _split_activity(activity)
    if base not in _BASE_ACTIVITY:
        return None
    event, expected_class = _BASE_ACTIVITY[base]
    deceased = _deceased(message)
    if deceased is True:
        event = Event.MORS
    elif deceased is False:
        event, action = Event.MORS, Action.CANCEL
    encounter = next((e for e in message.focus if e.resource.get("resourceType") == "Encounter"), None)
    return Notification(
        event=event,
        action=action,
        activity=activity,
        encounter=encounter,
        expected_class=expected_class,
        message_id=message.message_id,
        replaces=_replaced(message, action),
        at=_event_time(encounter.resource if encounter else {}, event, action),
        episode_ids=_episode_ids(encounter.resource if encounter else {}),
    )


def _replaced(message: Message, action: Action) -> str | None:
    current = message.current_provenance
    if action is Action.NEW or current is None:
        return None
    for role, target in current.entities:
        if role in ("revision", "removal") and target:
            return target
    return None


def _event_time(encounter: dict[str, Any], event: Event, action: Action) -> str | None:
    raw = encounter.get("period")
    period: dict[str, Any] = raw if isinstance(raw, dict) else {}
    leave = leave_period(encounter) or {}
    if event in (Event.SLHJ, Event.MORS) and action is not Action.CANCEL:
        value = period.get("end")
    elif event is Event.STOR:
        value = leave.get("start")
    elif event is Event.SLOR:
        value = leave.get("end")
    else:
        value = period.get("start")
    return value if isinstance(value, str) else None


LEAVE_PERIOD_URL = (
    "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension"
)
"""(sic: MedCom's canonical spells it ``hospitalnotifiation``.)"""


def leave_period(encounter: dict[str, Any]) -> dict[str, Any] | None:
    """The ``leavePeriod`` extension's Period, if the Encounter carries one."""
    for ext in as_list(encounter.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == LEAVE_PERIOD_URL:
            period = ext.get("valuePeriod")
            return period if isinstance(period, dict) else None
    return None


def _episode_ids(encounter: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for episode in as_list(encounter.get("episodeOfCare")):
        ident = episode.get("identifier") if isinstance(episode, dict) else None
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            out.append(ident["value"])
    return tuple(out)
