"""A citizen's current hospital stay as a pure state machine over HospitalNotifications.

The stay is the set of events in effect, each with the letter id that announced it and the time
it happened. Its status is the fold of those events in time order, not in arrival order, so a
late STIN after STAA and SLHJ still leaves the citizen discharged (DOMAIN §5.2). A correction
(RE_) replaces the event it revises (new time, same kind); a cancellation (AN_) removes the event
it cancels, so the status is what it was before that event. A death is final until cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .hospital_notification import Action, Event, Notification

__all__ = ["Stay", "StayEvent", "StayStatus", "apply", "event_from_notification"]


class StayStatus(StrEnum):
    NONE = "none"
    """No stay known (or every event cancelled)."""
    ACUTE_AMBULANT = "acute-ambulant"
    ADMITTED = "admitted"
    ON_LEAVE = "on-leave"
    DISCHARGED = "discharged"
    DECEASED = "deceased"


_EFFECT = {
    Event.STAA: StayStatus.ACUTE_AMBULANT,
    Event.STIN: StayStatus.ADMITTED,
    Event.STOR: StayStatus.ON_LEAVE,
    Event.SLOR: StayStatus.ADMITTED,
    Event.SLHJ: StayStatus.DISCHARGED,
    Event.MORS: StayStatus.DECEASED,
}


@dataclass(frozen=True, slots=True)
class StayEvent:
    """One notification as applied to the stay."""

    event: Event
    action: Action
    at: datetime
    message_id: str
    replaces: str | None = None
    """For RE_/AN_: the letter id of the event corrected or cancelled."""


@dataclass(frozen=True, slots=True)
class Stay:
    """The events in effect, keyed by the letter that announced them (insertion order kept)."""

    events: tuple[StayEvent, ...] = ()
    seen: frozenset[str] = frozenset()
    """Every letter id applied so far, so a redelivered notification changes nothing."""

    def _fold(self) -> tuple[StayStatus, datetime | None]:
        status, since = StayStatus.NONE, None
        for item in sorted(self.events, key=lambda e: e.at):
            if status is StayStatus.DECEASED:
                break
            status, since = _EFFECT[item.event], item.at
        return status, since

    @property
    def status(self) -> StayStatus:
        return self._fold()[0]

    @property
    def since(self) -> datetime | None:
        """When the current status began (None without a stay)."""
        return self._fold()[1]


def _target(stay: Stay, event: StayEvent) -> StayEvent | None:
    """The event a correction or cancellation refers to: by letter id, else the latest of its kind."""
    if event.replaces is not None:
        return next((item for item in stay.events if item.message_id == event.replaces), None)
    kind = [item for item in stay.events if item.event is event.event]
    return max(kind, key=lambda e: e.at) if kind else None


def apply(stay: Stay, event: StayEvent) -> Stay:
    """The stay after ``event``. Unknown corrections are taken as the event itself (out of order);
    unknown cancellations change nothing; a letter seen before is ignored (idempotent)."""
    if event.message_id in stay.seen:
        return stay
    seen = stay.seen | {event.message_id}
    if event.action is Action.NEW:
        return Stay((*stay.events, event), seen)
    target = _target(stay, event)
    if event.action is Action.CANCEL:
        return Stay(tuple(item for item in stay.events if item is not target), seen)
    corrected = replace(event, action=Action.NEW, replaces=None)
    if target is None:
        return Stay((*stay.events, corrected), seen)
    return Stay(tuple(corrected if item is target else item for item in stay.events), seen)


def event_from_notification(note: Notification) -> StayEvent:
    """The stay event a validated HospitalNotification carries (its time must be zoned)."""
    if note.message_id is None or note.at is None:
        raise ValueError("a HospitalNotification without a letter id or event time cannot change a stay")
    at = datetime.fromisoformat(note.at.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("HospitalNotification times must be zoned")
    replaces = (
        note.replaces.split("/", 1)[1]
        if note.replaces and note.replaces.startswith("MessageHeader/")
        else note.replaces
    )
    return StayEvent(note.event, note.action, at, note.message_id, replaces)
