"""Read an APD-DK 2.0.1 document (CDA XML) into an :class:`~.model.ApdAppointment`.

Checks what the profile and bindeled's rules need — template, LOINC code and profile version, a
valid CPR number, SOR codes for performer, custodian and an SOR meeting place, an owner type, status
``active``, a zoned start no later than the end, a reason — and refuses anything else with an
:class:`~._xml.ApdInvalid` whose location is the XPath of the offending element. Nothing is looked up
or written here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from ...fhir.references import valid_id
from ._xml import NS, ApdInvalid, attr, first, parse, text, texts, xpath_of
from .model import APD_CODE, APD_TEMPLATE, APD_VERSION, OWNER_CODES, ApdAppointment, Citizen, Party, PostalAddress
from .times import birth_date, fhir_instant

__all__ = ["BINDELED_OID", "CPR_OID", "LEGAL_BASIS_CRITERION", "MEDCOM_CODES", "SNOMED_OID", "SOR_OID", "read_apd"]

CPR_OID = "1.2.208.176.1.2"
SOR_OID = "1.2.208.176.1.1"
SNOMED_OID = "2.16.840.1.113883.6.96"
MEDCOM_CODES = "1.2.208.184.100.1"
BINDELED_OID = "2.25.132097929990477646909325057729761926332"
"""bindeled's own OID (a UUID OID, ITU-T X.667) for the code systems APD-DK has no place for."""
LEGAL_BASIS_CRITERION = "LegalBasis"
"""A ``precondition`` criterion code (in :data:`BINDELED_OID`) carrying the municipal legal basis."""

_CPR = re.compile(r"[0-9]{10}\Z")
_SOR = re.compile(r"[0-9]{11,18}\Z")
_LEGAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}\Z")
_GENDERS = {"F": "female", "M": "male", "UN": "unknown"}
_ROOT = "/ClinicalDocument"


def read_apd(data: bytes) -> ApdAppointment:
    """The appointment in an APD-DK document; :class:`~._xml.ApdFormatError` or :class:`~._xml.ApdInvalid`."""
    root = parse(data)
    _check_header(root)
    encounter = _encounter(root)
    start, end = _period(encounter)
    guided, guide_text = _guided(encounter)
    location, room = _meeting_place(encounter)
    reason_text, reason_code = _reason(encounter)
    return ApdAppointment(
        appointment_id=_appointment_id(encounter),
        owner_type=_owner_type(encounter),
        start=start,
        end=end,
        citizen=_citizen(root),
        performer=_performer(encounter),
        custodian=_custodian(root),
        reason_text=reason_text,
        reason_snomed=reason_code,
        location=location,
        room=room,
        time_is_guide=guided,
        guide_text=guide_text,
        repetition_id=_repetition(encounter),
        legal_basis=_legal_basis(encounter),
        document_id=attr(first(root, "v3:id"), "extension"),
        author=_author(root),
        created=_optional_instant(first(root, "v3:effectiveTime")),
    )


# -- header ------------------------------------------------------------------------------------------


def _check_header(root: Any) -> None:
    if first(root, f"v3:templateId[@root='{APD_TEMPLATE}']") is None:
        raise ApdInvalid("The document is not an APD-DK document (template)", f"{_ROOT}/templateId")
    if attr(first(root, "v3:code"), "code") != APD_CODE:
        raise ApdInvalid(f"The document code must be LOINC {APD_CODE}", f"{_ROOT}/code")
    if first(root, f"v3:documentationOf/v3:serviceEvent/v3:id[@extension='{APD_VERSION}']") is None:
        raise ApdInvalid(f"Only APD-DK {APD_VERSION} documents are read", f"{_ROOT}/documentationOf")


def _encounter(root: Any) -> Any:
    path = "v3:component/v3:structuredBody/v3:component/v3:section/v3:entry/v3:encounter"
    found = root.xpath(path, namespaces=NS)
    if len(found) != 1:
        raise ApdInvalid("An APD-DK document holds exactly one appointment (encounter)", f"{_ROOT}/component")
    return found[0]


def _citizen(root: Any) -> Citizen:
    role = first(root, "v3:recordTarget/v3:patientRole")
    if role is None:
        raise ApdInvalid("The document names no citizen", f"{_ROOT}/recordTarget")
    id_element = first(role, f"v3:id[@root='{CPR_OID}']")
    cpr = attr(id_element, "extension")
    if cpr is None or not _valid_cpr(cpr):
        where = xpath_of(id_element) if id_element is not None else xpath_of(role) + "/id"
        raise ApdInvalid("The citizen needs a valid CPR number", where, "invalid_cpr")
    person = first(role, "v3:patient")
    born = attr(first(person, "v3:birthTime"), "value") if person is not None else None
    gender = attr(first(person, "v3:administrativeGenderCode"), "code") if person is not None else None
    return Citizen(
        cpr=cpr,
        given=texts(person, "v3:name/v3:given") if person is not None else (),
        family=text(person, "v3:name/v3:family"),
        gender=_GENDERS.get(gender or ""),
        birth_date=birth_date(born) if born else None,
        address=_address(first(role, "v3:addr")),
        phone=_phone(role),
    )


def _valid_cpr(cpr: str) -> bool:
    """Ten digits whose first six are a date (synthetic numbers add 60 to the day; no modulus-11 check)."""
    if not _CPR.match(cpr):
        return False
    day = int(cpr[:2])
    day = day - 60 if day > 60 else day
    try:
        date(2000, int(cpr[2:4]), day)
    except ValueError:
        return False
    return True


def _author(root: Any) -> Party | None:
    element = first(root, "v3:author[not(v3:assignedAuthor/v3:code/@code='REFB')]/v3:assignedAuthor")
    if element is None or first(element, f"v3:id[@root='{SOR_OID}']") is None:
        return None
    return _party(element, first(element, "v3:representedOrganization"))


def _custodian(root: Any) -> Party:
    element = first(root, "v3:custodian/v3:assignedCustodian/v3:representedCustodianOrganization")
    if element is None:
        raise ApdInvalid("The document names no custodian", f"{_ROOT}/custodian")
    return _party(element, None)


# -- the appointment ---------------------------------------------------------------------------------


def _appointment_id(encounter: Any) -> str:
    element = first(encounter, "v3:id")
    value = attr(element, "extension")
    if value is None or not valid_id(value):
        raise ApdInvalid("The appointment needs an id usable as a FHIR id (a UUID)", xpath_of(encounter) + "/id")
    return value


def _owner_type(encounter: Any) -> str:
    code = first(encounter, "v3:code")
    owner = OWNER_CODES.get(attr(code, "code") or "")
    if owner is None:
        raise ApdInvalid("The appointment's owner type code is not an APD-DK one", xpath_of(encounter) + "/code")
    status = attr(first(encounter, "v3:statusCode"), "code")
    if status != "active":
        raise ApdInvalid("An APD-DK appointment has status active", xpath_of(encounter) + "/statusCode")
    return owner


def _period(encounter: Any) -> tuple[str, str | None]:
    low = first(encounter, "v3:effectiveTime/v3:low")
    start = fhir_instant(attr(low, "value") or "")
    if start is None:
        where = xpath_of(low) if low is not None else xpath_of(encounter) + "/effectiveTime/low"
        raise ApdInvalid("The appointment needs a start with minutes and a time zone", where)
    high = first(encounter, "v3:effectiveTime/v3:high")
    if high is None or attr(high, "nullFlavor") is not None:
        return start, None
    end = fhir_instant(attr(high, "value") or "")
    if end is None:
        raise ApdInvalid("The appointment's end needs minutes and a time zone (or a nullFlavor)", xpath_of(high))
    if datetime.fromisoformat(end) < datetime.fromisoformat(start):
        raise ApdInvalid("The appointment ends before it starts", xpath_of(high))
    return start, end


def _optional_instant(element: Any) -> str | None:
    value = attr(element, "value")
    return fhir_instant(value) if value else None


def _performer(encounter: Any) -> Party:
    entity = first(encounter, "v3:performer/v3:assignedEntity")
    if entity is None:
        raise ApdInvalid("The appointment names no performer", xpath_of(encounter) + "/performer")
    return _party(entity, first(entity, "v3:representedOrganization"))


def _meeting_place(encounter: Any) -> tuple[Party | None, str | None]:
    role = first(encounter, "v3:participant/v3:participantRole")
    if role is None:
        raise ApdInvalid("The appointment names no meeting place", xpath_of(encounter) + "/participant")
    room = text(role, "v3:playingEntity/v3:name")
    if first(role, "v3:id") is None:
        return None, room
    return _party(role, None), room


def _reason(encounter: Any) -> tuple[str, str | None]:
    code = first(encounter, "v3:entryRelationship[@typeCode='RSON']/v3:observation/v3:code")
    if code is None:
        raise ApdInvalid("The appointment gives no reason", xpath_of(encounter) + "/entryRelationship")
    reason = attr(code, "displayName") or text(code, "v3:originalText")
    if reason is None:
        raise ApdInvalid("The reason needs a text (displayName)", xpath_of(code))
    snomed = attr(code, "code") if attr(code, "codeSystem") == SNOMED_OID else None
    return " ".join(reason.split()), snomed


def _criterion(encounter: Any, code: str) -> Any:
    return first(encounter, f"v3:precondition/v3:criterion[v3:code/@code='{code}']")


def _guided(encounter: Any) -> tuple[bool, str | None]:
    criterion = _criterion(encounter, "GuidedIntervalType")
    if criterion is None:
        return False, None
    return True, text(criterion, "v3:text")


def _repetition(encounter: Any) -> str | None:
    criterion = _criterion(encounter, "RepeatingAppointmentType")
    if criterion is None:
        return None
    value = attr(first(criterion, "v3:value"), "extension")
    if value is None:
        raise ApdInvalid("A repeating appointment needs a series id", xpath_of(criterion) + "/value")
    return value


def _legal_basis(encounter: Any) -> str | None:
    criterion = _criterion(encounter, LEGAL_BASIS_CRITERION)
    if criterion is None:
        return None
    value = attr(first(criterion, "v3:value"), "code")
    if value is None or not _LEGAL.match(value):
        raise ApdInvalid("The legal basis needs a code", xpath_of(criterion) + "/value")
    return value


# -- parts -------------------------------------------------------------------------------------------


def _party(element: Any, organisation: Any) -> Party:
    """An organisation: its SOR id on ``element``; name, phone and address there or on ``organisation``."""
    id_element = first(element, f"v3:id[@root='{SOR_OID}']")
    sor = attr(id_element, "extension")
    if sor is None or not _SOR.match(sor):
        where = xpath_of(id_element) if id_element is not None else xpath_of(element) + "/id"
        raise ApdInvalid("An organisation here needs a SOR code (11 to 18 digits)", where, "invalid_sor")
    places = [e for e in (element, organisation) if e is not None]
    name = next((t for e in places if (t := text(e, "v3:name")) is not None), None)
    address = next((a for e in places if (a := _address(first(e, "v3:addr"))) is not None), None)
    return Party(
        sor=sor,
        name=name,
        phone=next((p for e in places if (p := _phone(e)) is not None), None),
        email=next((m for e in places if (m := _telecom(e, "mailto:")) is not None), None),
        address=address,
    )


def _address(element: Any) -> PostalAddress | None:
    if element is None or attr(element, "nullFlavor") is not None:
        return None
    address = PostalAddress(
        lines=texts(element, "v3:streetAddressLine"),
        postal_code=text(element, "v3:postalCode"),
        city=text(element, "v3:city"),
        country=text(element, "v3:country"),
        use=attr(element, "use"),
    )
    return address if address.lines or address.postal_code or address.city else None


def _phone(element: Any) -> str | None:
    return _telecom(element, "tel:")


def _telecom(element: Any, scheme: str) -> str | None:
    for telecom in element.xpath("v3:telecom", namespaces=NS):
        value = attr(telecom, "value")
        if value is not None and value.lower().startswith(scheme) and len(value) > len(scheme):
            return value[len(scheme) :].strip()
    return None
