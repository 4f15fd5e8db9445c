"""A HospitalNotification's effect on the citizen's current stay, as one FHIR Encounter.

The shape the overview reads (one Encounter per citizen)::

    Encounter
      meta.tag        {system: https://bindeled.dk/fhir/CodeSystem/overview, code: current-stay}
      subject         Patient/<id>   the stored Patient with the CPR identifier (urn:oid:1.2.208.176.1.2),
                                     created from the message's Patient when there is none
      status          in-progress (admitted, acute ambulant) | onleave | finished (discharged, deceased)
      class           the Encounter class of the notification now in effect (IMP | EMER)
      period          start of the current stay; end once discharged or deceased
      serviceProvider Organization/sor-<SOR> (the hospital unit; by identifier when not in the register)
      extension       https://bindeled.dk/fhir/StructureDefinition/stay-deceased valueBoolean true (MORS)

The state behind it is the stay state machine of :mod:`bindeled.messaging.stay`, kept per citizen in
``hub_stay`` (the events in effect, the letters seen, and per letter its class and hospital). A
correction (RE_) replaces the event it revises, a cancellation (AN_) removes it, and the Encounter is
rewritten from the result; when every event is cancelled the Encounter is deleted (no current stay).
A letter applied before changes nothing, so a redelivered notification is harmless.

Runs inside the receiving transaction with system rights: the hub, not the sender, writes the overview.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import msgspec

from ...registry.fhir import organization_id
from ...store.base import Store, Transaction
from ...store.guard import as_system
from ...store.repository import Repository
from ..hospital_notification import Action, Event, Notification
from ..messages import CPR_SYSTEM, SOR_SYSTEM, Message
from ..stay import Stay, StayEvent, StayStatus, apply, event_from_notification
from .one_statement import Statement

__all__ = ["CURRENT_STAY_TAG", "DECEASED_URL", "RegisteredUnits", "apply_notification", "encounter_for"]

CURRENT_STAY_TAG = {"system": "https://bindeled.dk/fhir/CodeSystem/overview", "code": "current-stay"}
DECEASED_URL = "https://bindeled.dk/fhir/StructureDefinition/stay-deceased"

_STATUS = {
    StayStatus.ACUTE_AMBULANT: "in-progress",
    StayStatus.ADMITTED: "in-progress",
    StayStatus.ON_LEAVE: "onleave",
    StayStatus.DISCHARGED: "finished",
    StayStatus.DECEASED: "finished",
}
_STARTS = (Event.STAA, Event.STIN)
_ENDS = (Event.SLHJ, Event.MORS)


class _Saved(msgspec.Struct, frozen=True):
    """``hub_stay.events``: the stay and, per letter in effect, what the Encounter needs from it."""

    events: list[dict[str, Any]] = []
    seen: list[str] = []
    details: dict[str, dict[str, Any]] = {}


def _event_json(event: StayEvent) -> dict[str, Any]:
    return {
        "event": event.event.value,
        "action": event.action.value,
        "at": event.at.isoformat(),
        "message_id": event.message_id,
        "replaces": event.replaces,
    }


def _event_of(data: dict[str, Any]) -> StayEvent:
    return StayEvent(
        Event(data["event"]),
        Action(data["action"]),
        datetime.fromisoformat(data["at"]),
        str(data["message_id"]),
        data.get("replaces"),
    )


def _details(note: Notification, message: Message) -> dict[str, Any]:
    """What the Encounter takes from a notification: its class and hospital (SOR)."""
    encounter = note.encounter.resource if note.encounter is not None else {}
    klass = encounter.get("class")
    provider_sor = None
    provider = encounter.get("serviceProvider")
    reference = provider.get("reference") if isinstance(provider, dict) else None
    entry = message.resolve(reference) if isinstance(reference, str) else None
    for identifier in (entry.resource.get("identifier") or ()) if entry is not None else ():
        if isinstance(identifier, dict) and identifier.get("system") == SOR_SYSTEM:
            provider_sor = identifier.get("value")
    if provider_sor is None and message.sender is not None:
        provider_sor = message.sender.sor
    return {"class": klass if isinstance(klass, dict) else None, "provider": provider_sor}


def _current_period(stay: Stay) -> tuple[datetime | None, datetime | None, StayEvent | None]:
    """Start and end of the latest stay, and the event that decides the current status (as the fold does)."""
    start: datetime | None = None
    end: datetime | None = None
    last: StayEvent | None = None
    for item in sorted(stay.events, key=lambda e: e.at):
        if item.event in _STARTS and (start is None or end is not None):
            start, end = item.at, None
        elif item.event in _ENDS:
            end = item.at
        last = item
        if item.event is Event.MORS:
            break
    return start, end, last


def encounter_for(
    stay: Stay,
    details: dict[str, dict[str, Any]],
    patient_id: str,
    encounter_id: str,
    tags: list[dict[str, Any]],
    registered: frozenset[str] = frozenset(),
) -> dict[str, Any] | None:
    """The current-stay Encounter for a stay; None when no stay is in effect.

    ``registered`` are the SOR codes whose Organization is in the store (referenced by id; others by identifier).
    """
    status = stay.status
    if status is StayStatus.NONE:
        return None
    start, end, last = _current_period(stay)
    info = details.get(last.message_id, {}) if last is not None else {}
    klass = info.get("class") or {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "meta": {"tag": [CURRENT_STAY_TAG, *tags]},
        "status": _STATUS[status],
        "class": klass,
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    period: dict[str, str] = {}
    if start is not None:
        period["start"] = start.isoformat()
    if end is not None and status in (StayStatus.DISCHARGED, StayStatus.DECEASED):
        period["end"] = end.isoformat()
    if period:
        encounter["period"] = period
    provider = info.get("provider")
    if isinstance(provider, str) and provider in registered:
        encounter["serviceProvider"] = {"reference": f"Organization/{organization_id(provider)}"}
    elif isinstance(provider, str):
        encounter["serviceProvider"] = {"identifier": {"system": SOR_SYSTEM, "value": provider}}
    if status is StayStatus.DECEASED:
        encounter["extension"] = [{"url": DECEASED_URL, "valueBoolean": True}]
    return encounter


def _patient_from(message: Message, cpr: str) -> dict[str, Any]:
    """A Patient for a citizen the store does not know: the CPR number, the name and the message's tags."""
    source = message.patients[0].resource if message.patients else {}
    patient: dict[str, Any] = {"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": cpr}]}
    tags = (source.get("meta") or {}).get("tag") if isinstance(source.get("meta"), dict) else None
    if tags:
        patient["meta"] = {"tag": tags}
    if source.get("name"):
        patient["name"] = source["name"]
    return patient


async def _patient(tx: Transaction, repo: Repository, message: Message, cpr: str) -> tuple[str, list[Any]]:
    found = await repo.matches(tx, "Patient", f"identifier={CPR_SYSTEM}|{cpr}", limit=None)
    if found:
        chosen = min(found, key=lambda s: s.id)
        meta = chosen.resource().get("meta") or {}
        return chosen.id, [t for t in meta.get("tag") or () if t != CURRENT_STAY_TAG]
    created = await repo.create_in(tx, "Patient", _patient_from(message, cpr))
    return created.stored.id, list((created.stored.resource().get("meta") or {}).get("tag") or ())


async def _registered(store: Store, sors: set[str]) -> frozenset[str]:
    """The units the SOR register holds, in one read of committed data (no lock on the hospitals' Organizations)."""
    if not sors:
        return frozenset()
    by_id = {organization_id(sor): sor for sor in sors}
    found = await store.read_many([("Organization", id) for id in sorted(by_id)])
    return frozenset(by_id[stored.id] for stored in found if not stored.deleted and stored.id in by_id)


class RegisteredUnits:
    """Which SOR units the register holds, remembered per unit for ``ttl`` seconds (one per hub process).

    The answer only decides whether the Encounter names its hospital by reference or by identifier, so
    a register change that reaches the overview a few seconds late is harmless, while asking for every
    letter costs each a round trip to the database outside its transaction.
    """

    def __init__(self, store: Store, *, ttl: float = 5.0) -> None:
        self.store = store
        self.ttl = ttl
        self._known: dict[str, tuple[float, bool]] = {}

    async def among(self, sors: set[str]) -> frozenset[str]:
        """The units of ``sors`` that are in the register."""
        now = time.monotonic()
        stale = {sor for sor in sors if (seen := self._known.get(sor)) is None or now - seen[0] >= self.ttl}
        if stale:
            found = await _registered(self.store, stale)
            self._known.update({sor: (now, sor in found) for sor in stale})
        return frozenset(sor for sor in sors if self._known[sor][1])


_SELECT = "SELECT encounter_id, events FROM hub_stay WHERE patient_id = $1"
_UPSERT = (
    "INSERT INTO hub_stay (patient_id, encounter_id, events) VALUES ($1, $2, $3)"
    " ON CONFLICT (patient_id) DO UPDATE SET events = excluded.events"
)


async def apply_notification(
    tx: Transaction,
    repo: Repository,
    message: Message,
    note: Notification,
    *,
    later: list[Statement] | None = None,
    units: RegisteredUnits | None = None,
) -> None:
    """Apply a validated HospitalNotification to the citizen's current stay (inside ``tx``).

    With ``later`` the stay's row is not written here but added there, for the caller to send with its
    own rows before the commit (:func:`~bindeled.messaging.hub.one_statement.run_together`). ``units``
    answers which hospitals are registered (read from the store when not given).
    """
    cpr = message.cpr
    if cpr is None:
        return
    event = event_from_notification(note)
    with as_system():
        patient_id, tags = await _patient(tx, repo, message, cpr)
        rows = await tx.fetch_all(_SELECT, (patient_id,))
        encounter_id = str(rows[0][0]) if rows else str(uuid.uuid4())
        saved = msgspec.json.decode(bytes(rows[0][1]), type=_Saved) if rows else _Saved()
        stay = Stay(tuple(_event_of(e) for e in saved.events), frozenset(saved.seen))
        after = apply(stay, event)
        if after is stay:
            return
        kept = {e.message_id for e in after.events}
        details = {k: v for k, v in {**saved.details, event.message_id: _details(note, message)}.items() if k in kept}
        record = _Saved([_event_json(e) for e in after.events], sorted(after.seen), details)
        upsert: Statement = (_UPSERT, [patient_id, encounter_id, msgspec.json.encode(record)])
        if later is None:
            await tx.fetch_all(*upsert)
        else:
            later.append(upsert)
        providers = {str(d["provider"]) for d in details.values() if d.get("provider")}
        registered = await (units.among(providers) if units is not None else _registered(repo.store, providers))
        encounter = encounter_for(after, details, patient_id, encounter_id, tags, registered)
        if encounter is None:
            await repo.delete_in(tx, "Encounter", encounter_id)
        else:
            await repo.update_in(tx, "Encounter", encounter_id, encounter)
