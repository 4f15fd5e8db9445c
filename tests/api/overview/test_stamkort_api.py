"""The Fælles Stamkort over HTTP: register data read-only, who may edit, who changed what, protection, PDC-DK."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx

from tests.api.conftest import LiveServer
from tests.api.overview.helpers import (
    CARD_EDITOR_SCOPE,
    DEMO_CITIZEN_CPR,
    JSON,
    as_user,
    details_code,
    make_patient,
    make_units,
)

PHONE_EDIT = {"resourceType": "Parameters", "parameter": [{"name": "phone", "valueString": "20304050"}]}
RELATIVE_EDIT = {
    "resourceType": "Parameters",
    "parameter": [
        {
            "name": "relative",
            "part": [
                {"name": "name", "valueString": "Rita Testesen"},
                {"name": "relationship", "valueString": "datter"},
                {"name": "phone", "valueString": "30405060"},
            ],
        },
        {
            "name": "temporaryAddress",
            "valueAddress": {"line": ["Sommervej 2"], "period": {"start": "2026-06-01", "end": "2026-08-31"}},
        },
        {"name": "preferredLanguage", "valueCode": "da"},
    ],
}


def _part(card: dict[str, Any], section: str) -> list[dict[str, Any]]:
    found = [p for p in card["parameter"] if p["name"] == section]
    return found[0]["part"] if found else []


def _values(parts: list[dict[str, Any]], name: str) -> list[Any]:
    return [next(v for k, v in p.items() if k.startswith("value") or k == "part") for p in parts if p["name"] == name]


def test_citizen_and_proxy_edit_and_the_card_names_who_changed_what(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units, DEMO_CITIZEN_CPR)
    with as_user(server, "citizen", scope=CARD_EDITOR_SCOPE) as citizen:
        edited = citizen.patch(f"/Patient/{patient}/$stamkort", json=PHONE_EDIT, headers=JSON)
        assert edited.status_code == 200, edited.text
    with as_user(server, "proxy", scope=CARD_EDITOR_SCOPE) as proxy:
        edited = proxy.patch(f"/Patient/{patient}/$stamkort", json=RELATIVE_EDIT, headers=JSON)
        assert edited.status_code == 200, edited.text
    card = edited.json()
    register, editable = _part(card, "register"), _part(card, "editable")
    assert _values(register, "organDonor") == [True] and _values(register, "livingWill") == [False]
    assert [p["value"] for p in _values(editable, "phone")] == ["20304050"]
    relative = _values(editable, "relative")[0]
    assert {p["name"] for p in relative} >= {"name", "relationship", "phone"}
    assert _values(editable, "temporaryAddress")[0]["period"]["end"] == "2026-08-31"
    assert _values(editable, "preferredLanguage") == ["da"]
    entries = [p["part"] for p in card["parameter"] if p["name"] == "change"]
    changes = [{p["name"]: p.get("valueString") for p in parts if p["name"] != "field"} for parts in entries]
    assert [c["who"] for c in changes] == ["Carl Demo Borger", "Pia Demo Fuldmagt"]
    fields = [_values(c["part"], "field") for c in card["parameter"] if c["name"] == "change"]
    assert fields == [["phone"], ["preferredLanguage", "relative", "temporaryAddress"]]
    relatives = client.get("/RelatedPerson", params={"patient": f"Patient/{patient}"}).json()
    assert len(relatives["entry"]) == 1
    provenance = client.get("/Provenance", params={"target": f"Patient/{patient}"}).json()
    assert len(provenance["entry"]) == 2


def test_register_fields_are_read_only(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units, DEMO_CITIZEN_CPR)
    edit = {"resourceType": "Parameters", "parameter": [{"name": "address", "valueAddress": {"line": ["Ny 1"]}}]}
    with as_user(server, "citizen", scope=CARD_EDITOR_SCOPE) as citizen:
        refused = citizen.patch(f"/Patient/{patient}/$stamkort", json=edit, headers=JSON)
        assert refused.status_code == 422 and details_code(refused) == "field_read_only"
        unknown = {"resourceType": "Parameters", "parameter": [{"name": "shoeSize", "valueString": "44"}]}
        assert citizen.patch(f"/Patient/{patient}/$stamkort", json=unknown, headers=JSON).status_code == 400
    stored = client.get(f"/Patient/{patient}").json()
    with as_user(server, "gp", units.practice, "ESP_STAMKORT") as gp:
        renamed = gp.put(f"/Patient/{patient}", json={**stored, "name": [{"family": "Andersen"}]}, headers=JSON)
        assert renamed.status_code == 422 and details_code(renamed) == "field_read_only"
        phones = {**stored, "telecom": [{"system": "phone", "value": "1234"}]}
        around = gp.put(f"/Patient/{patient}", json=phones, headers=JSON)
        assert around.status_code == 422 and details_code(around) == "use_stamkort_edit"


def test_professionals_need_a_treatment_relation(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    with as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as stranger:
        refused = stranger.patch(f"/Patient/{patient}/$stamkort", json=PHONE_EDIT, headers=JSON)
        assert refused.status_code == 403 and details_code(refused) == "no_treatment_relation"
    with as_user(server, "gp", units.practice, "ESP_APPOINTMENTS") as gp:
        wrong_purpose = gp.patch(f"/Patient/{patient}/$stamkort", json=PHONE_EDIT, headers=JSON)
        assert wrong_purpose.status_code == 403 and details_code(wrong_purpose) == "purpose_not_covering"
    with as_user(server, "gp", units.practice, "ESP_STAMKORT") as gp:  # the citizen's own GP
        edited = gp.patch(f"/Patient/{patient}/$stamkort", json=PHONE_EDIT, headers=JSON)
        assert edited.status_code == 200, edited.text
    change = next(p for p in edited.json()["parameter"] if p["name"] == "change")["part"]
    assert {"name": "who", "valueString": "Gitte Demo Praktiserende"} in change
    assert {"name": "role", "valueString": "doctor"} in change


def test_protected_address_is_hidden_outside_the_municipality(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units, protected=True)
    with as_user(server, "nurse", units.home_care, "ESP_STAMKORT") as own_municipality:
        card = own_municipality.get(f"/Patient/{patient}/$stamkort").json()
    assert _values(_part(card, "register"), "address")[0]["line"] == ["Testvej 1"]
    with as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere:
        card = elsewhere.get(f"/Patient/{patient}/$stamkort").json()
        pdc = elsewhere.get(f"/Patient/{patient}/$stamkort-pdc")
    assert _values(_part(card, "register"), "address") == [{"text": "ADRESSEBESKYTTET"}]
    assert "Testvej" not in str(card) and "Testvej" not in pdc.text
    assert "ADRESSEBESKYTTET" in pdc.text


def test_pdc_export_carries_the_card(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units, DEMO_CITIZEN_CPR)
    with as_user(server, "citizen", scope=CARD_EDITOR_SCOPE) as citizen:
        assert citizen.patch(f"/Patient/{patient}/$stamkort", json=RELATIVE_EDIT, headers=JSON).status_code == 200
        response = citizen.get(f"/Patient/{patient}/$stamkort-pdc")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    ns = {"h": "urn:hl7-org:v3"}
    doc = ET.fromstring(response.content)
    assert doc.find("h:templateId", ns).get("root") == "1.2.208.184.10.3"  # type: ignore[union-attr]
    cpr = doc.find("h:recordTarget/h:patientRole/h:id", ns)
    assert cpr is not None and cpr.get("extension") == DEMO_CITIZEN_CPR
    relatives = doc.findall("h:participant/h:associatedEntity[@classCode='NOK']", ns)
    assert len(relatives) == 1
    assert "Organdonation registreret: ja" in response.text
    provider = doc.find("h:recordTarget/h:patientRole/h:providerOrganization/h:id", ns)
    assert provider is not None and provider.get("extension") == units.practice
