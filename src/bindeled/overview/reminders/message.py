"""The text of a reminder: time, place, organisation name and phone — nothing else (DOMAIN 4.15).

The time is shown in the offset the appointment was booked in (Danish local time for Danish
systems), with "ca." when the time is only a guide. The place is the SOR unit's name and address, or
"hjemme hos dig" for a visit at home. No reason, diagnosis, CPR number or name of the citizen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...fhir.jsonio import Resource
from ..appointment_model import AT_HOME, CONTACT_PHONE, PERFORMER, TIME_IS_GUIDE

__all__ = ["reminder_text", "wanted_references"]

_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


def _extension(resource: Resource, url: str) -> Any:
    for ext in resource.get("extension", ()):
        if isinstance(ext, dict) and ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def wanted_references(appointment: Resource) -> tuple[str | None, str | None]:
    """The performer Organization and the meeting-place Location an appointment's text needs."""
    performer = _extension(appointment, PERFORMER)
    place = next(
        (
            p["actor"]["reference"]
            for p in appointment.get("participant", ())
            if isinstance(p.get("actor"), dict) and str(p["actor"].get("reference", "")).startswith("Location/")
        ),
        None,
    )
    return (performer.get("reference") if isinstance(performer, dict) else None), place


def _room(appointment: Resource) -> str:
    """The meeting place's own name (room, floor), kept as the Location participant's display."""
    for participant in appointment.get("participant", ()):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if isinstance(actor, dict) and str(actor.get("reference", "")).startswith("Location/"):
            return str(actor.get("display") or "")
    return ""


def _when(start: datetime, guided: bool) -> str:
    clock = f"{'ca. ' if guided else ''}kl. {start:%H.%M}"
    return f"{_WEEKDAYS[start.weekday()]} {start.day}. {_MONTHS[start.month - 1]} {start.year} {clock}"


def _address(resource: Resource | None) -> str:
    if resource is None:
        return ""
    address = resource.get("address")
    first = address[0] if isinstance(address, list) and address else address
    if not isinstance(first, dict):
        return ""
    town = " ".join(str(p) for p in (first.get("postalCode"), first.get("city")) if p)
    return ", ".join(str(p) for p in (*first.get("line", ()), town) if p)


def _phone(appointment: Resource, organisation: Resource | None) -> str | None:
    given = _extension(appointment, CONTACT_PHONE)
    if isinstance(given, dict) and given.get("value"):
        return str(given["value"])
    for point in (organisation or {}).get("telecom", ()):
        if point.get("system") == "phone" and point.get("value"):
            return str(point["value"])
    return None


def reminder_text(appointment: Resource, organisation: Resource | None, place: Resource | None) -> str:
    """The reminder for one appointment version, given its performer Organization and its Location."""
    start = datetime.fromisoformat(str(appointment["start"]))
    name = str((organisation or {}).get("name") or "din behandler")
    if _extension(appointment, AT_HOME) is True or place is None:
        where = "hjemme hos dig"
    else:
        place_name = str(place.get("name") or "")
        parts = ("" if place_name == name else place_name, _room(appointment), _address(place))
        where = ", ".join(p for p in dict.fromkeys(parts) if p)
    text = f"Påmindelse: Du har en aftale {_when(start, _extension(appointment, TIME_IS_GUIDE) is True)}"
    text += f" med {name}, {where}."
    phone = _phone(appointment, organisation)
    return text + (f" Spørgsmål eller afbud: tlf. {phone}." if phone else "")
