"""Write an :class:`~.model.ApdAppointment` as an APD-DK 2.0.1 document (CDA XML, UTF-8).

The header keeps APD-DK's template, LOINC code, title and profile version; the body has the human
readable table and one ``encounter`` with everything :mod:`.reader` reads back. The responsible
organisation (``author``) is the performer unless the appointment says otherwise. A municipal legal
basis, which APD-DK has no element for, travels as a ``precondition`` criterion in bindeled's own
code system (:data:`~.reader.BINDELED_OID`); other readers skip it.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .mapping import HOME_NAME, gender_code
from .model import APD_CODE, APD_TEMPLATE, APD_VERSION, OWNER_CODES, ApdAppointment, Party, PostalAddress
from .reader import BINDELED_OID, CPR_OID, LEGAL_BASIS_CRITERION, MEDCOM_CODES, SNOMED_OID, SOR_OID
from .times import cda_birth_time, cda_instant

__all__ = ["write_apd"]

_V3 = "urn:hl7-org:v3"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_TEMPLATE_DATE = "2019-09-10"
_OWNER_CODE = {owner: code for code, owner in OWNER_CODES.items()}


def _el(parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{_V3}}}{name}", {k.rstrip("_"): v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def write_apd(apd: ApdAppointment, *, document_id: str, created: str) -> bytes:
    """The document; ``document_id`` is its UUID and ``created`` (a FHIR instant) its effectiveTime."""
    root = etree.Element(f"{{{_V3}}}ClinicalDocument", nsmap={None: _V3, "xsi": _XSI})
    root.set("classCode", "DOCCLIN")
    root.set("moodCode", "EVN")
    _header(root, apd, document_id, created)
    _body(root, apd)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _header(root: Any, apd: ApdAppointment, document_id: str, created: str) -> None:
    _el(root, "realmCode", code="DK")
    _el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    _el(root, "templateId", root=APD_TEMPLATE, extension=_TEMPLATE_DATE)
    _el(root, "id", root="1.2.208.184", extension=document_id, assigningAuthorityName="MedCom")
    _el(
        root,
        "code",
        code=APD_CODE,
        codeSystem="2.16.840.1.113883.6.1",
        codeSystemName="LOINC",
        displayName="Dato og tidspunkt for møde mellem patient og sundhedsperson",
    )
    _el(root, "title", f"Aftale for {apd.citizen.cpr}")
    _el(root, "effectiveTime", value=cda_instant(created))
    _el(root, "confidentialityCode", code="N", codeSystem="2.16.840.1.113883.5.25")
    _el(root, "languageCode", code="da-DK")
    _record_target(root, apd)
    _author(root, apd.author or apd.performer, created)
    _custodian(root, apd.custodian)
    _service_event(root, apd)
    version = _el(_el(root, "documentationOf"), "serviceEvent")
    _el(version, "templateId", root="1.2.208.184.10.1.10")
    _el(version, "id", root="1.2.208.184.100.3", extension=APD_VERSION, assigningAuthorityName="MedCom")


def _record_target(root: Any, apd: ApdAppointment) -> None:
    citizen = apd.citizen
    role = _el(_el(root, "recordTarget", typeCode="RCT", contextControlCode="OP"), "patientRole", classCode="PAT")
    _el(role, "id", root=CPR_OID, extension=citizen.cpr, assigningAuthorityName="CPR")
    _address(role, citizen.address)
    _telecoms(role, citizen.phone, None, "H")
    patient = _el(role, "patient", classCode="PSN", determinerCode="INSTANCE")
    name = _el(patient, "name")
    for given in citizen.given:
        _el(name, "given", given)
    if citizen.family:
        _el(name, "family", citizen.family)
    _el(patient, "administrativeGenderCode", code=gender_code(citizen.gender), codeSystem="2.16.840.1.113883.5.1")
    if citizen.birth_date:
        _el(patient, "birthTime", value=cda_birth_time(citizen.birth_date))


def _author(root: Any, party: Party, created: str) -> None:
    author = _el(root, "author", typeCode="AUT", contextControlCode="OP")
    _el(author, "time", value=cda_instant(created))
    assigned = _el(author, "assignedAuthor", classCode="ASSIGNED")
    _sor_id(assigned, party.sor)
    _address(assigned, party.address)
    _telecoms(assigned, party.phone, party.email, "WP")
    if party.name:
        organisation = _el(assigned, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        _el(organisation, "name", party.name)


def _custodian(root: Any, party: Party) -> None:
    assigned = _el(_el(root, "custodian", typeCode="CST"), "assignedCustodian", classCode="ASSIGNED")
    organisation = _el(assigned, "representedCustodianOrganization", classCode="ORG", determinerCode="INSTANCE")
    _sor_id(organisation, party.sor)
    if party.name:
        _el(organisation, "name", party.name)
    _telecoms(organisation, party.phone, party.email, "WP")
    _address(organisation, party.address)


def _service_event(root: Any, apd: ApdAppointment) -> None:
    event = _el(_el(root, "documentationOf", typeCode="DOC"), "serviceEvent", classCode="MPROT", moodCode="EVN")
    _el(event, "templateId", root="1.2.208.184.10.1.11")
    _period(event, apd)


def _period(parent: Any, apd: ApdAppointment) -> None:
    time = _el(parent, "effectiveTime")
    _el(time, "low", value=cda_instant(apd.start))
    if apd.end is None:
        _el(time, "high", nullFlavor="NI")
    else:
        _el(time, "high", value=cda_instant(apd.end))


def _body(root: Any, apd: ApdAppointment) -> None:
    structured = _el(_el(root, "component"), "structuredBody")
    section = _el(_el(structured, "component"), "section", classCode="DOCSECT", moodCode="EVN")
    _el(section, "templateId", root="1.2.208.184.14.11.1", extension=_TEMPLATE_DATE)
    _el(section, "code", code="18776-5", codeSystem="2.16.840.1.113883.6.1", codeSystemName="LOINC")
    _el(section, "title", "Aftale")
    _narrative(section, apd)
    _encounter(_el(section, "entry"), apd)


def _narrative(section: Any, apd: ApdAppointment) -> None:
    text = _el(section, "text")
    _el(text, "paragraph", "Aftale:")
    body = _el(_el(text, "table", width="100%"), "tbody")
    header = _el(body, "tr")
    for title in ("Aftale dato", "Vedrørende", "Udførende organisation", "Mødested"):
        _el(header, "th", title)
    row = _el(body, "tr")
    when = f"{apd.start} - {apd.end or ''}" + (f". {apd.guide_text}" if apd.guide_text else "")
    performer = ", ".join(p for p in (apd.performer.name, _one_line(apd.performer.address)) if p)
    phone = f", Tlf. {apd.performer.phone}" if apd.performer.phone else ""
    place = apd.location.name if apd.location is not None else HOME_NAME
    for cell in (when, apd.reason_text, performer + phone, ", ".join(p for p in (place, apd.room) if p)):
        _el(row, "td", cell)


def _one_line(address: PostalAddress | None) -> str:
    if address is None:
        return ""
    town = " ".join(p for p in (address.postal_code, address.city) if p)
    return ", ".join(p for p in (*address.lines, town) if p)


def _encounter(entry: Any, apd: ApdAppointment) -> None:
    encounter = _el(entry, "encounter", moodCode="APT", classCode="ENC")
    _el(encounter, "templateId", root="1.2.208.184.14.11.2", extension=_TEMPLATE_DATE)
    _el(encounter, "id", root="1.2.208.184", extension=apd.appointment_id, assigningAuthorityName="MedCom")
    _el(encounter, "code", code=_OWNER_CODE[apd.owner_type], codeSystem=MEDCOM_CODES)
    _el(encounter, "statusCode", code="active")
    _period(encounter, apd)
    _performer(encounter, apd.performer)
    _meeting_place(encounter, apd)
    _reason(encounter, apd)
    if apd.time_is_guide:
        criterion = _precondition(encounter, "1.2.208.184.14.11.5", "GuidedIntervalType", MEDCOM_CODES)
        if apd.guide_text:
            _el(criterion, "text", apd.guide_text)
    if apd.repetition_id:
        criterion = _precondition(encounter, "1.2.208.184.14.11.4", "RepeatingAppointmentType", MEDCOM_CODES)
        value = _el(criterion, "value", root="1.2.208.184", extension=apd.repetition_id)
        value.set(f"{{{_XSI}}}type", "II")
    if apd.legal_basis:
        criterion = _precondition(encounter, None, LEGAL_BASIS_CRITERION, BINDELED_OID)
        value = _el(criterion, "value", code=apd.legal_basis, codeSystem=BINDELED_OID)
        value.set(f"{{{_XSI}}}type", "CD")


def _performer(encounter: Any, party: Party) -> None:
    entity = _el(_el(encounter, "performer", typeCode="PRF"), "assignedEntity", classCode="ASSIGNED")
    _sor_id(entity, party.sor)
    _address(entity, party.address)
    _telecoms(entity, party.phone, None, "WP")
    if party.name:
        organisation = _el(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        _el(organisation, "name", party.name)


def _meeting_place(encounter: Any, apd: ApdAppointment) -> None:
    at_home = apd.location is None
    participant = _el(encounter, "participant", typeCode="SBJ" if at_home else "LOC")
    role = _el(participant, "participantRole", classCode="SDLOC")
    _el(role, "templateId", root="1.2.208.184.14.11.3", extension=_TEMPLATE_DATE)
    if apd.location is None:
        _address(role, apd.citizen.address, use="H")
        _telecoms(role, apd.citizen.phone, None, "H")
    else:
        _sor_id(role, apd.location.sor)
        _address(role, apd.location.address)
        _telecoms(role, apd.location.phone, None, "WP")
    room = apd.room or (HOME_NAME if at_home else apd.location.name if apd.location else None)
    if room:
        _el(_el(role, "playingEntity", classCode="PLC"), "name", room)


def _reason(encounter: Any, apd: ApdAppointment) -> None:
    relationship = _el(encounter, "entryRelationship", typeCode="RSON")
    observation = _el(relationship, "observation", classCode="OBS", moodCode="EVN")
    if apd.reason_snomed:
        _el(
            observation,
            "code",
            code=apd.reason_snomed,
            codeSystem=SNOMED_OID,
            codeSystemName="SNOMED CT",
            displayName=apd.reason_text,
        )
    else:
        _el(observation, "code", code="NI", displayName=apd.reason_text)


def _precondition(encounter: Any, template: str | None, code: str, system: str) -> Any:
    precondition = _el(encounter, "precondition")
    if template:
        _el(precondition, "templateId", root=template, extension=_TEMPLATE_DATE)
    criterion = _el(precondition, "criterion")
    _el(criterion, "code", code=code, codeSystem=system)
    return criterion


def _sor_id(parent: Any, sor: str) -> None:
    _el(parent, "id", root=SOR_OID, extension=sor, assigningAuthorityName="SOR")


def _address(parent: Any, address: PostalAddress | None, use: str | None = None) -> None:
    if address is None:
        _el(parent, "addr", nullFlavor="NI")
        return
    attributes = {"use": u} if (u := use or address.use) else {}
    element = _el(parent, "addr", **attributes)
    for line in address.lines:
        _el(element, "streetAddressLine", line)
    if address.postal_code:
        _el(element, "postalCode", address.postal_code)
    if address.city:
        _el(element, "city", address.city)
    if address.country:
        _el(element, "country", address.country)


def _telecoms(parent: Any, phone: str | None, email: str | None, use: str) -> None:
    if phone:
        _el(parent, "telecom", value=f"tel:{phone}", use=use)
    if email:
        _el(parent, "telecom", value=f"mailto:{email}", use=use)
    if not phone and not email:
        _el(parent, "telecom", nullFlavor="NI")
