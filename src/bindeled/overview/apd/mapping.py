"""APD-DK appointments ↔ FHIR Appointments in the shape of :mod:`bindeled.overview.appointment_model`.

Pure functions: the references (``Patient/…``, ``Organization/…``, ``Location/…``) are resolved by
the caller (:mod:`.service`). Where the shared shape has no field, standard Appointment elements
carry the rest of the document: the guided-interval wording is ``patientInstruction``, the meeting
place's own name (room, floor) is the Location participant's ``display``, and the APD appointment
UUID is both the resource id and an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import Unprocessable
from ...fhir.jsonio import Resource
from ..appointment_model import (
    AT_HOME,
    CONTACT_PHONE,
    CUSTODIAN,
    LEGAL_BASIS,
    LEGAL_BASIS_SYSTEM,
    OPEN_END,
    OWNER_TYPE,
    PERFORMER,
    REPETITION_ID,
    TIME_IS_GUIDE,
)
from .model import ApdAppointment, Citizen, Party, PostalAddress

__all__ = [
    "APD_ID_SYSTEM",
    "CPR_SYSTEM",
    "HOME_NAME",
    "SNOMED",
    "SOR_SYSTEM",
    "References",
    "citizen_of",
    "gender_code",
    "new_patient",
    "party_of",
    "references_of",
    "to_apd",
    "to_appointment",
]

APD_ID_SYSTEM = "urn:oid:1.2.208.184"
"""The APD appointment ids' root (MedCom); the id itself is the UUID."""
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
SNOMED = "http://snomed.info/sct"
HOME_NAME = "Borgers Hjemmeadresse"
"""What APD-DK calls a meeting place at the citizen's home."""
_GENDER_CODES = {"female": "F", "male": "M"}


@dataclass(frozen=True, slots=True)
class References:
    """The stored resources an appointment points at, as ``Type/id`` references."""

    patient: str
    performer: str
    custodian: str
    location: str | None
    """None: the citizen's home."""


# -- document → FHIR -------------------------------------------------------------------------------


def to_appointment(apd: ApdAppointment, refs: References) -> Resource:
    """The Appointment for an APD-DK appointment, its id the APD appointment UUID."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": apd.appointment_id,
        "extension": _extensions(apd, refs),
        "identifier": [{"system": APD_ID_SYSTEM, "value": apd.appointment_id}],
        "status": "booked",
        "reasonCode": [_reason(apd)],
        "start": apd.start,
        "end": apd.end or apd.start,
    }
    if apd.guide_text:
        resource["patientInstruction"] = apd.guide_text
    participants: list[dict[str, Any]] = [{"actor": {"reference": refs.patient}, "status": "accepted"}]
    if refs.location is not None:
        actor = {"reference": refs.location, **({"display": apd.room} if apd.room else {})}
        participants.append({"actor": actor, "status": "accepted"})
    resource["participant"] = participants
    return resource


def _extensions(apd: ApdAppointment, refs: References) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"url": OWNER_TYPE, "valueCode": apd.owner_type},
        {"url": PERFORMER, "valueReference": {"reference": refs.performer}},
        {"url": CUSTODIAN, "valueReference": {"reference": refs.custodian}},
    ]
    if apd.time_is_guide:
        out.append({"url": TIME_IS_GUIDE, "valueBoolean": True})
    if apd.repetition_id:
        out.append({"url": REPETITION_ID, "valueString": apd.repetition_id})
    if apd.legal_basis:
        out.append({"url": LEGAL_BASIS, "valueCoding": {"system": LEGAL_BASIS_SYSTEM, "code": apd.legal_basis}})
    if refs.location is None:
        out.append({"url": AT_HOME, "valueBoolean": True})
    if apd.performer.phone:
        out.append({"url": CONTACT_PHONE, "valueContactPoint": {"system": "phone", "value": apd.performer.phone}})
    if apd.end is None:
        out.append({"url": OPEN_END, "valueBoolean": True})
    return out


def _reason(apd: ApdAppointment) -> dict[str, Any]:
    if apd.reason_snomed is None:
        return {"text": apd.reason_text}
    coding = {"system": SNOMED, "code": apd.reason_snomed, "display": apd.reason_text}
    return {"coding": [coding], "text": apd.reason_text}


def new_patient(citizen: Citizen) -> Resource:
    """A Patient record for a citizen the server does not know yet, from what the document says."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"use": "official", "system": CPR_SYSTEM, "value": citizen.cpr}],
    }
    name = {k: v for k, v in (("family", citizen.family), ("given", list(citizen.given))) if v}
    if name:
        patient["name"] = [{"use": "official", **name}]
    if citizen.phone:
        patient["telecom"] = [{"system": "phone", "value": citizen.phone, "use": "home"}]
    if citizen.gender:
        patient["gender"] = citizen.gender
    if citizen.birth_date:
        patient["birthDate"] = citizen.birth_date
    if citizen.address is not None:
        patient["address"] = [_fhir_address(citizen.address, "home")]
    return patient


def _fhir_address(address: PostalAddress, use: str) -> dict[str, Any]:
    parts = {
        "use": use,
        "line": list(address.lines),
        "city": address.city,
        "postalCode": address.postal_code,
        "country": address.country,
    }
    return {k: v for k, v in parts.items() if v}


# -- FHIR → document -------------------------------------------------------------------------------


def _ext(resource: Resource, url: str) -> Any:
    for extension in resource.get("extension", ()):
        if extension.get("url") == url:
            return next((v for k, v in extension.items() if k.startswith("value")), None)
    return None


def _required_ref(appointment: Resource, url: str) -> str:
    value = _ext(appointment, url)
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str):
        raise Unprocessable(
            "The appointment lacks an extension APD-DK needs", location=(f"Appointment.extension('{url}')",)
        )
    return reference


def references_of(appointment: Resource) -> References:
    """Which Patient, Organizations and Location an appointment points at (422 when one is missing)."""
    actors = [p.get("actor", {}).get("reference", "") for p in appointment.get("participant", ())]
    patient = next((a for a in actors if a.startswith("Patient/")), None)
    if patient is None:
        raise Unprocessable("The appointment names no citizen", location=("Appointment.participant",))
    return References(
        patient=patient,
        performer=_required_ref(appointment, PERFORMER),
        custodian=_required_ref(appointment, CUSTODIAN),
        location=next((a for a in actors if a.startswith("Location/")), None),
    )


def to_apd(
    appointment: Resource,
    citizen: Citizen,
    performer: Party,
    custodian: Party,
    location: Party | None,
) -> ApdAppointment:
    """The APD-DK content of a stored Appointment and the parties it points at."""
    if appointment.get("status") in ("cancelled", "entered-in-error", "noshow"):
        raise Unprocessable(
            "A cancelled appointment has no APD-DK document (it is deprecated)", location=("Appointment.status",)
        )
    owner = _ext(appointment, OWNER_TYPE)
    if owner is None or "start" not in appointment:
        raise Unprocessable("The appointment lacks an owner type or a start", location=("Appointment",))
    phone = _ext(appointment, CONTACT_PHONE)
    legal = _ext(appointment, LEGAL_BASIS)
    reason = (appointment.get("reasonCode") or [{}])[0]
    snomed = next((c.get("code") for c in reason.get("coding", ()) if c.get("system") == SNOMED), None)
    reason_text = reason.get("text") or next((c.get("display") for c in reason.get("coding", ())), None)
    room = next(
        (
            p["actor"].get("display")
            for p in appointment.get("participant", ())
            if p.get("actor", {}).get("reference", "").startswith("Location/")
        ),
        None,
    )
    return ApdAppointment(
        appointment_id=str(appointment["id"]),
        owner_type=str(owner),
        start=str(appointment["start"]),
        end=None if _ext(appointment, OPEN_END) is True else appointment.get("end"),
        citizen=citizen,
        performer=_with_phone(performer, phone.get("value") if isinstance(phone, dict) else None),
        custodian=custodian,
        reason_text=reason_text or "Aftale",
        reason_snomed=snomed,
        location=location,
        room=room if location is not None else HOME_NAME,
        time_is_guide=_ext(appointment, TIME_IS_GUIDE) is True,
        guide_text=appointment.get("patientInstruction"),
        repetition_id=_ext(appointment, REPETITION_ID),
        legal_basis=legal.get("code") if isinstance(legal, dict) else None,
    )


def _with_phone(party: Party, phone: str | None) -> Party:
    if phone is None:
        return party
    return Party(party.sor, party.name, phone, party.email, party.address)


def citizen_of(patient: Resource) -> Citizen:
    """The recordTarget content of a Patient: CPR, official name, gender, birth date, address, phone."""
    cpr = next((i.get("value") for i in patient.get("identifier", ()) if i.get("system") == CPR_SYSTEM), None)
    if not cpr:
        raise Unprocessable("The appointment's citizen has no CPR number", location=("Patient.identifier",))
    names = patient.get("name", ())
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    phone = next((t.get("value") for t in patient.get("telecom", ()) if t.get("system") == "phone"), None)
    addresses = patient.get("address", ())
    return Citizen(
        cpr=str(cpr),
        given=tuple(name.get("given", ())),
        family=name.get("family"),
        gender=patient.get("gender"),
        birth_date=patient.get("birthDate"),
        address=_postal(addresses[0], "H") if addresses else None,
        phone=phone,
    )


def gender_code(gender: str | None) -> str:
    """The HL7 v3 administrative gender code of a FHIR gender (``UN`` for anything else)."""
    return _GENDER_CODES.get(gender or "", "UN")


def party_of(resource: Resource | None, sor: str) -> Party:
    """An Organization or Location as a document party; only the SOR code when it is not stored."""
    if resource is None:
        return Party(sor)
    telecom = resource.get("telecom", ())
    phone = next((t.get("value") for t in telecom if t.get("system") == "phone"), None)
    email = next((t.get("value") for t in telecom if t.get("system") == "email"), None)
    address = resource.get("address")
    first_address = address[0] if isinstance(address, list) and address else address
    return Party(
        sor=sor,
        name=resource.get("name"),
        phone=phone,
        email=email,
        address=_postal(first_address, "WP") if isinstance(first_address, dict) else None,
    )


def _postal(address: Resource, use: str) -> PostalAddress:
    return PostalAddress(
        lines=tuple(address.get("line", ())),
        postal_code=address.get("postalCode"),
        city=address.get("city"),
        country=address.get("country"),
        use=use,
    )
