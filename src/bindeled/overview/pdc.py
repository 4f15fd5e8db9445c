"""The Fælles Stamkort as a PDC-DK-shaped CDA document (template 1.2.208.184.10.3).

No public PDC-DK example exists to copy, so the document follows the CDA header conventions of the
national ESP documents (APD-DK): ``recordTarget`` with the CPR id, the home address (or
``ADRESSEBESKYTTET`` when the reader may not see it), phones, name and preferred language, the GP as
``providerOrganization``; relatives as ``participant typeCode="IND"`` with ``associatedEntity
classCode="NOK"``; the dentist as a ``participant`` with ``classCode="PROV"``. The body has one section
with the temporary address, the health-insurance group, custody and — as presence only — the
registered choices (organ donation, living will, treatment will).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from ..fhir.jsonio import Resource
from ..security.facts import CPR_SYSTEM, SOR_SYSTEM, identifier_value
from .stamkort_model import MASKED_ADDRESS, editable_view, register_view

__all__ = ["PDC_TEMPLATE", "pdc_document"]

PDC_TEMPLATE = "1.2.208.184.10.3"
_NS = "urn:hl7-org:v3"
_CPR_OID = CPR_SYSTEM.removeprefix("urn:oid:")
_SOR_OID = SOR_SYSTEM.removeprefix("urn:oid:")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


def _address(parent: ET.Element, address: dict[str, Any] | None, use: str, masked: bool) -> None:
    addr = _el(parent, "addr", use=use)
    if masked:
        _el(addr, "streetAddressLine", MASKED_ADDRESS)
        return
    if not address:
        addr.set("nullFlavor", "NI")
        return
    for line in address.get("line", ()):
        _el(addr, "streetAddressLine", str(line))
    for key, tag in (("city", "city"), ("postalCode", "postalCode"), ("country", "country")):
        if address.get(key):
            _el(addr, tag, str(address[key]))
    period = address.get("period", {})
    if period:
        valid = _el(addr, "useablePeriod")
        _el(valid, "low", value=str(period.get("start", "")).replace("-", ""))
        _el(valid, "high", value=str(period.get("end", "")).replace("-", ""))


def _name(parent: ET.Element, name: dict[str, Any] | None) -> None:
    element = _el(parent, "name")
    if not name:
        element.set("nullFlavor", "NI")
        return
    for given in name.get("given", ()):
        _el(element, "given", str(given))
    if name.get("family"):
        _el(element, "family", str(name["family"]))
    if name.get("text") and not name.get("family"):
        element.text = str(name["text"])


def _phones(parent: ET.Element, points: list[dict[str, Any]], use: str) -> None:
    for point in points:
        _el(parent, "telecom", value=f"tel:{point.get('value', '')}", use=use)


def _record_target(doc: ET.Element, patient: Resource, gp: Resource | None, hide_address: bool) -> None:
    register, editable = register_view(patient), editable_view(patient)
    role = _el(_el(doc, "recordTarget", typeCode="RCT", contextControlCode="OP"), "patientRole", classCode="PAT")
    _el(role, "id", extension=register["cpr"] or "", root=_CPR_OID, assigningAuthorityName="CPR")
    homes = register["address"]
    _address(role, homes[0] if homes else None, "H", hide_address and bool(homes))
    _phones(role, editable["phone"], "H")
    person = _el(role, "patient", classCode="PSN", determinerCode="INSTANCE")
    _name(person, (register["name"] or [None])[0])
    if editable["preferredLanguage"]:
        comm = _el(person, "languageCommunication")
        _el(comm, "languageCode", code=str(editable["preferredLanguage"]))
        _el(comm, "preferenceInd", value="true")
    provider = _el(role, "providerOrganization")
    gp_sor = identifier_value(gp, SOR_SYSTEM) if gp else None
    if gp is not None and gp_sor:
        _el(provider, "id", extension=gp_sor, root=_SOR_OID, assigningAuthorityName="SOR")
    _el(provider, "name", str(gp.get("name"))) if gp else _el(provider, "name", nullFlavor="NI")


def _relatives(doc: ET.Element, relatives: list[Resource]) -> None:
    for relative in relatives:
        entity = _el(_el(doc, "participant", typeCode="IND"), "associatedEntity", classCode="NOK")
        relationship = (relative.get("relationship") or [{}])[0]
        coding = (relationship.get("coding") or [{}])[0]
        code = _el(entity, "code", code=str(coding.get("code", "")) or "NI")
        if relationship.get("text") or coding.get("display"):
            code.set("displayName", str(relationship.get("text") or coding.get("display")))
        _phones(entity, [t for t in relative.get("telecom", ()) if t.get("system") == "phone"], "HP")
        _name(_el(entity, "associatedPerson", classCode="PSN"), (relative.get("name") or [None])[0])


def _dentist(doc: ET.Element, dentist: Resource | None) -> None:
    if dentist is None:
        return
    entity = _el(_el(doc, "participant", typeCode="IND"), "associatedEntity", classCode="PROV")
    _el(entity, "code", code="dentist", displayName="Tandlæge")
    org = _el(entity, "scopingOrganization")
    code = identifier_value(dentist, SOR_SYSTEM)
    if code:
        _el(org, "id", extension=code, root=_SOR_OID, assigningAuthorityName="SOR")
    _el(org, "name", str(dentist.get("name", "")))


def _body(doc: ET.Element, patient: Resource, hide_address: bool) -> None:
    register, editable = register_view(patient), editable_view(patient)
    section = _el(_el(_el(_el(doc, "component"), "structuredBody"), "component"), "section")
    _el(section, "title", "Fælles Stamkort")
    text = _el(section, "text")
    facts = [
        ("Sygesikringsgruppe", register["healthInsuranceGroup"] or "ukendt"),
        ("Forældremyndighed registreret", "ja" if register["custodyHolder"] else "nej"),
        ("Organdonation registreret", "ja" if register["organDonor"] else "nej"),
        ("Livstestamente registreret", "ja" if register["livingWill"] else "nej"),
        ("Behandlingstestamente registreret", "ja" if register["treatmentWill"] else "nej"),
    ]
    for label, value in facts:
        _el(text, "paragraph", f"{label}: {value}")
    if editable["temporaryAddress"]:
        entry = _el(_el(section, "entry"), "observation", classCode="OBS", moodCode="EVN")
        _el(entry, "code", code="temporary-address", displayName="Midlertidig adresse")
        _address(_el(entry, "participant", typeCode="LOC"), editable["temporaryAddress"], "TMP", hide_address)


def pdc_document(
    patient: Resource,
    relatives: list[Resource],
    gp: Resource | None,
    dentist: Resource | None,
    *,
    hide_address: bool,
    now: datetime,
    document_id: str,
) -> bytes:
    """The card as CDA XML bytes."""
    doc = ET.Element("ClinicalDocument", {"xmlns": _NS})
    _el(doc, "realmCode", code="DK")
    _el(doc, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    _el(doc, "templateId", root=PDC_TEMPLATE)
    _el(doc, "id", extension=document_id, root="1.2.208.184", assigningAuthorityName="MedCom")
    _el(doc, "code", code="PDC", codeSystem="1.2.208.184.100.1", displayName="Fælles Stamkort")
    _el(doc, "title", "Fælles Stamkort")
    _el(doc, "effectiveTime", value=_time(now))
    _el(doc, "confidentialityCode", code="N", codeSystem="2.16.840.1.113883.5.25")
    _el(doc, "languageCode", code="da-DK")
    _record_target(doc, patient, gp, hide_address)
    _relatives(doc, relatives)
    _dentist(doc, dentist)
    _body(doc, patient, hide_address)
    body: bytes = ET.tostring(doc, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
