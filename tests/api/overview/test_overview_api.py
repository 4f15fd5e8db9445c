"""``Patient/{id}/$overview`` over HTTP: every sector in time order, the gate applied, one MinLog entry a call."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bindeled.overview.appointment_model import CONTACT_PHONE
from tests.api.conftest import LiveServer
from tests.api.overview.helpers import (
    DEMO_CITIZEN_CPR,
    JSON,
    SOR,
    Units,
    appointment,
    as_user,
    at,
    make_patient,
    make_units,
)
from tests.api.overview.test_plans_rules import plan

STAY_TAG = {"system": "https://bindeled.dk/fhir/CodeSystem/overview", "code": "current-stay"}
INCLUDE_SUBUNITS = "urn:bindeled:fhir:StructureDefinition/include-subunits"


def _world(server: LiveServer, client: httpx.Client) -> tuple[Units, str, dict[str, str]]:
    """A citizen with appointments from three sectors (plus a past and a cancelled one), plans and a stay."""
    units = make_units(client)
    patient = make_patient(client, units, DEMO_CITIZEN_CPR)
    made: dict[str, str] = {}
    with as_user(server, "doctor", units.ward, "ESP_APPOINTMENTS") as doctor:
        for name, days in (("regional", 5), ("past", -3), ("cancelled", 4)):
            body = appointment(patient, units.ward, location=units.ward, start_days=days)
            if name == "cancelled":
                body["status"] = "cancelled"
            assert doctor.put(f"/Appointment/{body['id']}", json=body, headers=JSON).status_code == 201
            made[name] = body["id"]
    with as_user(server, "nurse", units.home_care, "ESP_APPOINTMENTS") as nurse:
        body = appointment(patient, units.home_care, "municipal", home=True, start_days=1, legal_basis="SEL-83")
        assert nurse.put(f"/Appointment/{body['id']}", json=body, headers=JSON).status_code == 201
        made["municipal"] = body["id"]
    with as_user(server, "gp", units.practice, "ESP_APPOINTMENTS") as gp:
        body = appointment(patient, units.practice, "practice", location=units.practice, start_days=3)
        assert gp.put(f"/Appointment/{body['id']}", json=body, headers=JSON).status_code == 201
        made["practice"] = body["id"]
    with as_user(server, "nurse", units.home_care, "ESP_PLANS") as nurse:
        active = nurse.post("/CarePlan", json=plan(patient, units.home_care, units.home_care), headers=JSON).json()
        done = nurse.post("/CarePlan", json={**plan(patient, units.home_care, units.home_care), "status": "completed"})
        made["plan"], made["done"] = active["id"], done.json()["id"]
    stay = {
        "resourceType": "Encounter",
        "meta": {"tag": [STAY_TAG]},
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": at(-1)},
        "serviceProvider": {"reference": f"Organization/sor-{units.hospital}"},
        "extension": [{"url": "https://bindeled.dk/fhir/StructureDefinition/stay-deceased", "valueBoolean": False}],
    }
    response = client.post("/Encounter", json=stay, headers=JSON)
    assert response.status_code == 201, response.text
    made["stay"] = response.json()["id"]
    return units, patient, made


def _named(overview: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [p.get("resource", p) for p in overview["parameter"] if p["name"] == name]


def test_overview_shows_every_sector_in_time_order(server: LiveServer, client: httpx.Client) -> None:
    units, patient, made = _world(server, client)
    request_id = str(uuid.uuid4())
    with as_user(server, "gp", units.practice, "SJ_READ") as gp:
        response = gp.get(f"/Patient/{patient}/$overview", headers={"X-Request-Id": request_id})
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["resourceType"] == "Parameters"
    shown = [a["id"] for a in _named(overview, "appointment")]
    assert shown == [made["municipal"], made["practice"], made["regional"]]
    regional = _named(overview, "appointment")[2]
    assert any(e["url"] == CONTACT_PHONE for e in regional["extension"])
    assert [p["id"] for p in _named(overview, "plan")] == [made["plan"]]
    assert [e["id"] for e in _named(overview, "currentStay")] == [made["stay"]]
    card = _named(overview, "card")[0]["part"]
    assert [p["name"] for p in card][:2] == ["patient", "register"]
    assert not _named(overview, "outcome")
    with as_user(server, "citizen") as citizen:
        log = citizen.get("/AuditEvent").json()
    mine = [
        e
        for e in log.get("entry", [])
        if {"type": "correlationId", "valueString": request_id} in e["resource"]["entity"][0]["detail"]
    ]
    assert len(mine) == 1
    assert mine[0]["resource"]["action"] == "R"


def test_a_change_supersedes_and_a_cancellation_leaves_the_overview(server: LiveServer, client: httpx.Client) -> None:
    units, patient, made = _world(server, client)
    with as_user(server, "doctor", units.ward, "ESP_APPOINTMENTS") as doctor:
        current = doctor.get(f"/Appointment/{made['regional']}").json()
        later = {**current, "start": at(6), "end": at(6, 11)}
        assert doctor.put(f"/Appointment/{made['regional']}", json=later, headers=JSON).status_code == 200
        overview = doctor.get(f"/Patient/{patient}/$overview").json()
        regional = [a for a in _named(overview, "appointment") if a["id"] == made["regional"]]
        assert [a["start"] for a in regional] == [later["start"]]
        cancelled = {**doctor.get(f"/Appointment/{made['regional']}").json(), "status": "cancelled"}
        assert doctor.put(f"/Appointment/{made['regional']}", json=cancelled, headers=JSON).status_code == 200
        overview = doctor.get(f"/Patient/{patient}/$overview").json()
        assert made["regional"] not in [a["id"] for a in _named(overview, "appointment")]
        assert doctor.get(f"/Appointment/{made['regional']}").json()["status"] == "cancelled"  # kept for audit


def _hospital_block(patient: str, hospital: str) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient}"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "provision": {
            "type": "deny",
            "extension": [{"url": INCLUDE_SUBUNITS, "valueBoolean": True}],
            "actor": [
                {
                    "role": {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}
                        ]
                    },
                    "reference": {"identifier": {"system": SOR, "value": hospital}},
                }
            ],
        },
    }


def test_a_block_removes_items_without_a_trace(server: LiveServer, client: httpx.Client) -> None:
    units, patient, made = _world(server, client)
    consent = client.post("/Consent", json=_hospital_block(patient, units.hospital), headers=JSON)
    assert consent.status_code == 201, consent.text
    try:
        with as_user(server, "gp", units.practice, "SJ_READ") as gp:
            response = gp.get(f"/Patient/{patient}/$overview")
    finally:
        withdrawn = {**consent.json(), "status": "inactive"}
        assert client.put(f"/Consent/{withdrawn['id']}", json=withdrawn, headers=JSON).status_code == 200
    assert response.status_code == 200, response.text
    overview = response.json()
    assert [a["id"] for a in _named(overview, "appointment")] == [made["municipal"], made["practice"]]
    assert not _named(overview, "currentStay")
    assert not _named(overview, "outcome")
    assert units.hospital not in response.text and units.ward not in response.text


def test_sections_outside_the_purpose_are_named_not_shown(server: LiveServer, client: httpx.Client) -> None:
    units, patient, _made = _world(server, client)
    with as_user(server, "nurse", units.home_care, "ESP_APPOINTMENTS") as nurse:
        overview = nurse.get(f"/Patient/{patient}/$overview").json()
    assert len(_named(overview, "appointment")) == 3
    assert not _named(overview, "plan")
    issues = _named(overview, "outcome")[0]["issue"]
    assert sorted(i["expression"][0] for i in issues) == ["CarePlan", "RelatedPerson"]


def test_unknown_or_hidden_citizen_is_404(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    other = make_patient(client, units)
    with as_user(server, "citizen") as citizen:
        assert citizen.get(f"/Patient/{other}/$overview").status_code == 404
        assert citizen.get(f"/Patient/{uuid.uuid4()}/$overview").status_code == 404
