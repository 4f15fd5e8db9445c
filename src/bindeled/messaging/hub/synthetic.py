"""Synthetic MedCom messages for the demo and the hub benchmark: valid letters about synthetic citizens.

HospitalNotifications (the six new events STAA, STIN, STOR, SLOR, SLHJ, MORS) and CareCommunications
(new message, one text segment) between given SOR units with GLNs, built to the MedCom profiles and
business rules the hub checks. (A CareCommunication about a *synthetic* citizen fails one check:
CareCommunication 5.0's DK-core wants a CPR with a real day of month; see :func:`message_stream`.)
Citizens have CPR numbers with day of month + 60, so they can never be real, and every Patient
carries the SYNTHETIC tag. Ids come from the ``random.Random`` passed in,
so a seed gives the same stream again.
"""

from __future__ import annotations

import html
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...demo.patients import SYNTHETIC_TAG
from ..hospital_notification import LEAVE_PERIOD_URL
from ..messages import CPR_SYSTEM, DESTINATION_USE_URL, EVENT_SYSTEM, GLN_SYSTEM, SOR_SYSTEM

__all__ = [
    "HN_EVENTS",
    "Citizen",
    "Party",
    "care_communication",
    "hospital_notification",
    "message_stream",
    "synthetic_citizen",
]

_IG = "http://medcomfhir.dk/ig"
_TERM = f"{_IG}/terminology/CodeSystem"
_HN = f"{_IG}/hospitalnotification/StructureDefinition"
_CC = f"{_IG}/carecommunication/StructureDefinition"
_CORE = f"{_IG}/core/StructureDefinition"
_MESSAGING = f"{_IG}/messaging/StructureDefinition"
_CC_DEFINITION = f"{_IG}/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_LPR = "https://www.esundhed.dk/Registre/Landspatientregisteret"

# event → (Provenance activity, Encounter class, Encounter status)
HN_EVENTS: dict[str, tuple[str, str, str]] = {
    "STAA": ("admit-emergency", "EMER", "in-progress"),
    "STIN": ("admit-inpatient", "IMP", "in-progress"),
    "STOR": ("start-leave-inpatient", "IMP", "onleave"),
    "SLOR": ("end-leave-inpatient", "IMP", "in-progress"),
    "SLHJ": ("discharge-inpatient-home", "IMP", "finished"),
    "MORS": ("discharge-inpatient-home", "IMP", "finished"),
}
"""The new (not corrected or cancelled) HospitalNotification events this generator writes."""

_GIVEN = ("Anne", "Mette", "Lars", "Jens", "Sofie", "Peter", "Ida", "Mads")
_FAMILY = ("Syntetisk Jensen", "Syntetisk Hansen", "Syntetisk Nielsen", "Syntetisk Larsen")


@dataclass(frozen=True, slots=True)
class Party:
    """A sending or receiving SOR unit with the GLN it is addressed by."""

    sor: str
    gln: str
    name: str


@dataclass(frozen=True, slots=True)
class Citizen:
    """A synthetic citizen (CPR with day of month + 60)."""

    cpr: str
    given: str
    family: str


def synthetic_citizen(rng: random.Random) -> Citizen:
    day, month, year = rng.randint(1, 28) + 60, rng.randint(1, 12), rng.randint(0, 99)
    return Citizen(f"{day:02d}{month:02d}{year:02d}{rng.randint(0, 9999):04d}", rng.choice(_GIVEN), rng.choice(_FAMILY))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _narrative(text: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{html.escape(text)}</p></div>'}


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("MedCom times must be zoned")
    return moment.isoformat(timespec="seconds")


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{resource['resourceType']}/{resource['id']}", "resource": resource}


def _organization(party: Party, rng: random.Random) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": _uuid(rng),
        "meta": {"profile": [f"{_MESSAGING}/medcom-messaging-organization"]},
        "text": _narrative(party.name),
        "identifier": [{"system": GLN_SYSTEM, "value": party.gln}, {"system": SOR_SYSTEM, "value": party.sor}],
        "name": party.name,
    }


def _patient(citizen: Citizen, rng: random.Random, *, deceased: bool | None = None) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _uuid(rng),
        "meta": {"profile": [f"{_CORE}/medcom-core-patient"], "tag": [dict(SYNTHETIC_TAG)]},
        "text": _narrative("Synthetic citizen"),
        "identifier": [{"system": CPR_SYSTEM, "value": citizen.cpr}],
        "name": [{"use": "official", "family": citizen.family, "given": [citizen.given]}],
    }
    if deceased is not None:
        patient["deceasedBoolean"] = deceased
    return patient


def _header(
    profile: str,
    event: str,
    sender: dict[str, Any],
    receiver: dict[str, Any],
    parties: tuple[Party, Party],
    rng: random.Random,
) -> dict[str, Any]:
    return {
        "resourceType": "MessageHeader",
        "id": _uuid(rng),
        "meta": {"profile": [profile]},
        "text": _narrative(f"{event} from {parties[0].name} to {parties[1].name}"),
        "eventCoding": {"system": EVENT_SYSTEM, "code": event},
        "destination": [
            {
                "extension": [
                    {
                        "url": DESTINATION_USE_URL,
                        "valueCoding": {"system": f"{_TERM}/medcom-messaging-destinationUse", "code": "primary"},
                    }
                ],
                "endpoint": f"https://sor2.sum.dsdn.dk/#id={parties[1].sor}",
                "receiver": {"reference": f"Organization/{receiver['id']}"},
            }
        ],
        "sender": {"reference": f"Organization/{sender['id']}"},
        "source": {"endpoint": f"https://sor2.sum.dsdn.dk/#id={parties[0].sor}"},
    }


def _provenance(
    header_id: str, activity: str, who: dict[str, Any], at: datetime, rng: random.Random, profile: str
) -> dict[str, Any]:
    return {
        "resourceType": "Provenance",
        "id": _uuid(rng),
        "meta": {"profile": [profile]},
        "text": _narrative(f"Activity {activity}"),
        "target": [{"reference": f"MessageHeader/{header_id}"}],
        "occurredDateTime": _stamp(at),
        "recorded": _stamp(at),
        "activity": {"coding": [{"system": f"{_TERM}/medcom-messaging-activityCodes", "code": activity}]},
        "agent": [{"who": {"reference": f"Organization/{who['id']}"}}],
    }


def _bundle(profile: str, resources: list[dict[str, Any]], at: datetime, rng: random.Random) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": _uuid(rng),
        "meta": {"profile": [profile]},
        "type": "message",
        "timestamp": _stamp(at),
        "entry": [_entry(r) for r in resources],
    }


def _encounter(
    event: str, patient: dict[str, Any], hospital: dict[str, Any], admitted: datetime, at: datetime, rng: random.Random
) -> dict[str, Any]:
    _activity, klass, status = HN_EVENTS[event]
    period: dict[str, str] = {"start": _stamp(admitted)}
    if event in ("SLHJ", "MORS"):
        period["end"] = _stamp(at)
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": _uuid(rng),
        "meta": {"profile": [f"{_HN}/medcom-hospitalNotification-encounter"]},
        "text": _narrative(f"Hospital stay ({status})"),
        "status": status,
        "class": {"system": _ACT_CODE, "code": klass},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "episodeOfCare": [{"identifier": {"system": _LPR, "value": f"urn:uuid:{_uuid(rng)}"}}],
        "period": period,
        "serviceProvider": {"reference": f"Organization/{hospital['id']}"},
    }
    if event == "STOR":
        encounter["extension"] = [{"url": LEAVE_PERIOD_URL, "valuePeriod": {"start": _stamp(at)}}]
    elif event == "SLOR":
        leave = {"start": _stamp(at - timedelta(days=1)), "end": _stamp(at)}
        encounter["extension"] = [{"url": LEAVE_PERIOD_URL, "valuePeriod": leave}]
    return encounter


def hospital_notification(
    event: str,
    *,
    hospital: Party,
    municipality: Party,
    citizen: Citizen,
    admitted: datetime,
    at: datetime | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """A HospitalNotification 3.0 of ``event`` (see :data:`HN_EVENTS`) from a hospital unit to a municipality.

    ``admitted`` is when the stay began; ``at`` when this event happened (default: ``admitted``).
    """
    if event not in HN_EVENTS:
        raise ValueError(f"unknown HospitalNotification event {event!r}; known: {', '.join(HN_EVENTS)}")
    r = rng or random.Random()
    moment = at or admitted
    sender, receiver = _organization(hospital, r), _organization(municipality, r)
    patient = _patient(citizen, r, deceased=True if event == "MORS" else None)
    encounter = _encounter(event, patient, sender, admitted, moment, r)
    header = _header(
        f"{_HN}/medcom-hospitalNotification-messageHeader",
        "hospital-notification-message",
        sender,
        receiver,
        (hospital, municipality),
        r,
    )
    if event in ("STIN", "STAA"):
        header["extension"] = [{"url": f"{_HN}/medcom-messaging-reportOfAdmissionExtension", "valueBoolean": True}]
    header["focus"] = [{"reference": f"Encounter/{encounter['id']}"}]
    provenance = _provenance(
        header["id"], HN_EVENTS[event][0], sender, moment, r, f"{_MESSAGING}/medcom-messaging-provenance"
    )
    resources = [header, patient, encounter, receiver, sender, provenance]
    return _bundle(f"{_HN}/medcom-hospitalNotification-message", resources, moment, r)


def care_communication(
    *,
    sender: Party,
    receiver: Party,
    citizen: Citizen,
    text: str,
    at: datetime,
    category: str = "carecoordination",
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """A CareCommunication 5.0 new message with one text segment, about one citizen."""
    r = rng or random.Random()
    them, us = _organization(receiver, r), _organization(sender, r)
    patient = _patient(citizen, r)
    practitioner = {
        "resourceType": "Practitioner",
        "id": _uuid(r),
        "meta": {"profile": [f"{_CORE}/medcom-core-practitioner"]},
        "text": _narrative("Synthetic author"),
        "name": [{"family": "Syntetisk", "given": ["Forfatter"]}],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": _uuid(r),
        "meta": {"profile": [f"{_CORE}/medcom-core-practitionerrole"]},
        "text": _narrative("Nurse"),
        "practitioner": {"reference": f"Practitioner/{practitioner['id']}"},
        "code": [
            {"coding": [{"system": f"{_TERM}/medcom-core-PractitionerRolesSKSadministrativ", "code": "sygeplejerske"}]}
        ],
    }
    segment_id = f"urn:uuid:{_uuid(r)}"
    communication = {
        "resourceType": "Communication",
        "id": _uuid(r),
        "meta": {"profile": [f"{_CC}/medcom-careCommunication-communication"]},
        "text": _narrative("Care communication"),
        "identifier": [{"value": f"urn:uuid:{_uuid(r)}"}],
        "status": "unknown",
        "category": [{"coding": [{"system": f"{_TERM}/medcom-careCommunication-categoryCodes", "code": category}]}],
        "subject": {"reference": f"Patient/{patient['id']}"},
        "payload": [
            {
                "extension": [
                    {"url": f"{_CORE}/medcom-core-datetime-extension", "valueDateTime": _stamp(at)},
                    {
                        "url": f"{_CORE}/medcom-core-identifier-extension",
                        "valueIdentifier": {"value": segment_id, "assigner": {"reference": f"Organization/{us['id']}"}},
                    },
                    {
                        "url": f"{_CORE}/medcom-core-practitioner-extension",
                        "valueReference": {"reference": f"PractitionerRole/{role['id']}"},
                    },
                    {
                        "url": f"{_CORE}/medcom-core-contact-extension",
                        "valueContactPoint": {"system": "phone", "value": "70000000"},
                    },
                ],
                "contentString": text,
            }
        ],
    }
    if category == "other":
        communication["topic"] = {"text": "Synthetic topic"}
    header = _header(
        f"{_CC}/medcom-careCommunication-messageHeader", "care-communication-message", us, them, (sender, receiver), r
    )
    header["focus"] = [{"reference": f"Communication/{communication['id']}"}]
    header["definition"] = _CC_DEFINITION
    provenance = _provenance(header["id"], "new-message", us, at, r, f"{_CC}/medcom-careCommunication-provenance")
    provenance["entity"] = [{"role": "source", "what": {"identifier": {"value": segment_id}}}]
    resources = [header, patient, communication, role, practitioner, them, us, provenance]
    return _bundle(f"{_CC}/medcom-careCommunication-message", resources, at, r)


def message_stream(
    count: int, hospitals: Sequence[Party], municipalities: Sequence[Party], *, start: datetime, seed: int = 1
) -> Iterator[dict[str, Any]]:
    """``count`` HospitalNotifications for a demo or benchmark, from hospitals to municipalities: each
    citizen admitted (STIN) and, two letters later, discharged (SLHJ), with a leave (STOR) now and then.

    CareCommunications are left out: CareCommunication 5.0 pins a DK-core whose CPR invariant wants a
    real day of month, which a synthetic CPR (day + 60) never has, so the hub would refuse them.
    """
    if not hospitals or not municipalities:
        raise ValueError("a message stream needs at least one hospital and one municipality")
    rng = random.Random(seed)
    open_stays: list[tuple[Party, Party, Citizen, datetime]] = []
    for n in range(count):
        at = start + timedelta(minutes=n)
        if open_stays and (n % 2 == 1):
            hospital, municipality, citizen, admitted = open_stays.pop(0)
            event = "STOR" if rng.random() < 0.1 else "SLHJ"
            yield hospital_notification(
                event, hospital=hospital, municipality=municipality, citizen=citizen, admitted=admitted, at=at, rng=rng
            )
            continue
        hospital, municipality = rng.choice(hospitals), rng.choice(municipalities)
        citizen = synthetic_citizen(rng)
        open_stays.append((hospital, municipality, citizen, at))
        yield hospital_notification(
            "STIN", hospital=hospital, municipality=municipality, citizen=citizen, admitted=at, rng=rng
        )
