"""The PDC-DK-shaped export: template, the citizen's data, relatives, and the protected address masked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from bindeled.overview.pdc import PDC_TEMPLATE, pdc_document
from bindeled.overview.stamkort_model import ADDRESS_PROTECTED

NS = {"h": "urn:hl7-org:v3"}
PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "6101709995"}],
    "name": [{"family": "Testesen", "given": ["Tove"]}],
    "telecom": [{"system": "phone", "value": "20304050"}],
    "address": [{"use": "home", "line": ["Testvej 1"], "city": "Odense C", "postalCode": "5000"}],
    "extension": [{"url": ADDRESS_PROTECTED, "valueBoolean": True}],
}
RELATIVE = {
    "resourceType": "RelatedPerson",
    "relationship": [{"text": "datter"}],
    "name": [{"text": "Rita Testesen"}],
    "telecom": [{"system": "phone", "value": "30405060"}],
}
GP = {"resourceType": "Organization", "name": "Lægehuset", "identifier": [{"system": "urn:oid:1.2.208.176.1.1",
                                                                             "value": "123456789012345"}]}  # fmt: skip


def _doc(hide: bool) -> ET.Element:
    raw = pdc_document(PATIENT, [RELATIVE], GP, None, hide_address=hide, now=datetime(2026, 11, 22, tzinfo=UTC),
                       document_id="d1")  # fmt: skip
    assert raw.startswith(b"<?xml")
    return ET.fromstring(raw)


def test_document_carries_the_card() -> None:
    doc = _doc(hide=False)
    assert doc.find("h:templateId", NS).get("root") == PDC_TEMPLATE  # type: ignore[union-attr]
    role = doc.find("h:recordTarget/h:patientRole", NS)
    assert role is not None
    assert role.find("h:id", NS).get("extension") == "6101709995"  # type: ignore[union-attr]
    assert [e.text for e in role.findall("h:addr/h:streetAddressLine", NS)] == ["Testvej 1"]
    assert role.find("h:telecom", NS).get("value") == "tel:20304050"  # type: ignore[union-attr]
    assert role.find("h:providerOrganization/h:id", NS).get("extension") == "123456789012345"  # type: ignore[union-attr]
    relative = doc.find("h:participant/h:associatedEntity", NS)
    assert relative is not None and relative.get("classCode") == "NOK"


def test_protected_address_is_masked() -> None:
    text = ET.tostring(_doc(hide=True), encoding="unicode")
    assert "ADRESSEBESKYTTET" in text and "Testvej" not in text and "5000" not in text
