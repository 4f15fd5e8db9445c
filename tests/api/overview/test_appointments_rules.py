"""The Aftaleoversigt's rules over HTTP with real tokens: phone, legal basis, ownership, versions, every write path."""

from __future__ import annotations

from typing import Any

import httpx

from bindeled.overview.appointment_model import CONTACT_PHONE, LEGAL_BASIS
from tests.api.conftest import LiveServer
from tests.api.overview.helpers import JSON, SOR, appointment, as_user, details_code, make_patient, make_units


def _ext(resource: dict[str, Any], url: str) -> Any:
    return next((e for e in resource.get("extension", ()) if e["url"] == url), None)


def test_phone_is_inherited_from_sor_or_refused(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    with as_user(server, "doctor", units.ward, "ESP_APPOINTMENTS") as doctor:
        body = appointment(patient, units.ward, location=units.ward)
        made = doctor.put(f"/Appointment/{body['id']}", json=body, headers=JSON)
        assert made.status_code == 201, made.text
        phone = _ext(made.json(), CONTACT_PHONE)
        assert phone["valueContactPoint"]["value"] == "65001000"
        performer = [p for p in made.json()["participant"] if p["actor"].get("identifier", {}).get("system") == SOR]
        assert performer[0]["actor"]["identifier"]["value"] == units.ward
        # a place without a phone in SOR borrows the performer's
        silent = appointment(patient, units.ward, location=units.silent_ward)
        assert doctor.post("/Appointment", json=silent, headers=JSON).status_code == 201
    with as_user(server, "doctor", units.silent_ward, "ESP_APPOINTMENTS") as regional:
        silent_performer = appointment(patient, units.silent_ward, location=units.silent_ward)
        refused = regional.post("/Appointment", json=silent_performer, headers=JSON)
        assert refused.status_code == 422, refused.text
        assert details_code(refused) == "appointment_phone_missing"
        at_home = appointment(patient, units.silent_ward, home=True)
        assert regional.post("/Appointment", json=at_home, headers=JSON).status_code == 201
        given = appointment(patient, units.silent_ward, location=units.silent_ward)
        given["extension"].append({"url": CONTACT_PHONE, "valueContactPoint": {"system": "phone", "value": "7000"}})
        assert regional.post("/Appointment", json=given, headers=JSON).status_code == 201


def test_municipal_appointment_needs_an_allowed_legal_basis(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    with as_user(server, "nurse", units.home_care, "ESP_APPOINTMENTS") as nurse:
        missing = nurse.post("/Appointment", json=appointment(patient, units.home_care, "municipal", home=True))
        assert missing.status_code == 422 and details_code(missing) == "legal_basis_missing"
        wrong = appointment(patient, units.home_care, "municipal", home=True, legal_basis="SEL-85")
        refused = nurse.post("/Appointment", json=wrong, headers=JSON)
        assert refused.status_code == 422 and details_code(refused) == "legal_basis_not_allowed"
        right = appointment(patient, units.home_care, "municipal", home=True, legal_basis="SEL-83")
        made = nurse.post("/Appointment", json=right, headers=JSON)
        assert made.status_code == 201, made.text
        stored = made.json()
        # JSON Patch removing the legal basis is refused the same way
        index = next(i for i, e in enumerate(stored["extension"]) if e["url"] == LEGAL_BASIS)
        patch = [{"op": "remove", "path": f"/extension/{index}"}]
        patched = nurse.patch(
            f"/Appointment/{stored['id']}", json=patch, headers={"Content-Type": "application/json-patch+json"}
        )
        assert patched.status_code == 422 and details_code(patched) == "legal_basis_missing"
        # and a transaction with one bad entry writes nothing at all
        good = appointment(patient, units.home_care, "municipal", home=True, legal_basis="SEL-86")
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": good, "request": {"method": "PUT", "url": f"Appointment/{good['id']}"}},
                {"resource": wrong, "request": {"method": "POST", "url": "Appointment"}},
            ],
        }
        failed = nurse.post("/", json=bundle, headers=JSON)
        assert failed.status_code == 422, failed.text
    assert client.get(f"/Appointment/{good['id']}").status_code == 404


def test_only_the_owning_organisation_changes_or_cancels(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    body = appointment(patient, units.hospital, location=units.ward)
    with as_user(server, "doctor", units.ward, "ESP_APPOINTMENTS") as ward_doctor:  # below the performer
        made = ward_doctor.put(f"/Appointment/{body['id']}", json=body, headers=JSON)
        assert made.status_code == 201, made.text
    stored = made.json()
    with as_user(server, "nurse", units.home_care, "ESP_APPOINTMENTS") as outsider:
        assert outsider.get(f"/Appointment/{stored['id']}").status_code == 200  # reading crosses sectors
        moved = {**stored, "start": stored["start"].replace("T10", "T12"), "end": stored["end"].replace("T11", "T13")}
        refused = outsider.put(f"/Appointment/{stored['id']}", json=moved, headers=JSON)
        assert refused.status_code == 403 and details_code(refused) == "not_appointment_owner"
        cancel = outsider.put(f"/Appointment/{stored['id']}", json={**stored, "status": "cancelled"}, headers=JSON)
        assert cancel.status_code == 403
        assert outsider.delete(f"/Appointment/{stored['id']}").status_code == 403
        hijack = appointment(patient, units.hospital, location=units.ward)
        assert outsider.post("/Appointment", json=hijack, headers=JSON).status_code == 403
    with as_user(server, "doctor", units.hospital, "ESP_APPOINTMENTS") as owner:
        changed = owner.put(f"/Appointment/{stored['id']}", json=moved, headers=JSON)
        assert changed.status_code == 200, changed.text
        assert changed.json()["meta"]["versionId"] == "2"
        cancelled = owner.put(
            f"/Appointment/{stored['id']}", json={**changed.json(), "status": "cancelled"}, headers=JSON
        )
        assert cancelled.status_code == 200, cancelled.text
        history = owner.get(f"/Appointment/{stored['id']}/_history").json()
    versions = sorted(e["resource"]["meta"]["versionId"] for e in history["entry"])
    assert versions == ["1", "2", "3"]
    first = client.get(f"/Appointment/{stored['id']}/_history/1").json()
    assert first["start"] == stored["start"]  # the superseded version is kept


def test_staff_write_only_overview_appointments(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    plain = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-01T10:00:00+01:00",
        "end": "2026-12-01T10:30:00+01:00",
        "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
    }
    with as_user(server, "doctor", units.ward, "ESP_APPOINTMENTS") as doctor:
        refused = doctor.post("/Appointment", json=plain, headers=JSON)
        assert refused.status_code == 422 and details_code(refused) == "appointment_field_missing"
        no_reason = appointment(patient, units.ward, location=units.ward)
        del no_reason["reasonCode"]
        missing = doctor.post("/Appointment", json=no_reason, headers=JSON)
        assert missing.status_code == 422
        assert missing.json()["issue"][0]["expression"] == ["Appointment.reasonCode"]
    assert client.post("/Appointment", json=plain, headers=JSON).status_code == 201  # administrators may
    unknown = appointment(patient, units.ward, location=units.ward, custodian="999999999999999")
    refused = client.post("/Appointment", json=unknown, headers=JSON)
    assert refused.status_code == 422 and details_code(refused) == "appointment_unit_not_sor"
