"""Address protection on every read of a Patient over HTTP, not only in ``$stamkort`` and ``$overview``.

Staff outside the protected citizen's municipality see ``ADRESSEBESKYTTET`` (with the ``REDACTED`` label) in a
plain read, a vread, history, searches, ``_include``d Patients and ``$everything``, in JSON and XML; staff
of the citizen's own municipality and administrators see the address; unprotected citizens are untouched.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import LiveServer
from tests.api.overview.helpers import JSON, appointment, as_user, make_patient, make_units

MASKED = [{"use": "home", "text": "ADRESSEBESKYTTET"}]
REDACTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED"}


def _patients(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Patient"]


def _assert_masked(patient: dict[str, Any]) -> None:
    assert patient["address"] == MASKED
    assert REDACTED in patient["meta"]["security"]
    assert "Testvej" not in str(patient) and "text" not in patient


def test_plain_reads_hide_a_protected_address_outside_the_municipality(
    server: LiveServer, client: httpx.Client
) -> None:
    units = make_units(client)
    patient = make_patient(client, units, protected=True)
    with as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere:
        read = elsewhere.get(f"/Patient/{patient}")
        assert read.status_code == 200, read.text
        _assert_masked(read.json())
        assert read.headers["etag"] == 'W/"1"'
        _assert_masked(elsewhere.get(f"/Patient/{patient}/_history/1").json())
        history = elsewhere.get(f"/Patient/{patient}/_history").json()
        assert len(_patients(history)) == 1
        _assert_masked(_patients(history)[0])
        found = elsewhere.get("/Patient", params={"_id": patient}).json()
        assert len(_patients(found)) == 1
        _assert_masked(_patients(found)[0])
        xml = elsewhere.get(f"/Patient/{patient}", params={"_format": "xml"})
        assert xml.status_code == 200 and "ADRESSEBESKYTTET" in xml.text and "Testvej" not in xml.text
    with as_user(server, "nurse", units.home_care, "ESP_STAMKORT") as own_municipality:
        assert own_municipality.get(f"/Patient/{patient}").json()["address"][0]["line"] == ["Testvej 1"]
    stored = client.get(f"/Patient/{patient}").json()  # the administrator
    assert stored["address"][0]["line"] == ["Testvej 1"] and "security" not in stored.get("meta", {})


def test_included_patients_and_everything_are_masked(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units, protected=True)
    with as_user(server, "gp", units.practice, "ESP_APPOINTMENTS") as gp:
        body = appointment(patient, units.practice, "practice", location=units.practice, start_days=3)
        assert gp.put(f"/Appointment/{body['id']}", json=body, headers=JSON).status_code == 201
    with as_user(server, "gp", units.practice, "SJ_READ") as gp:
        included = gp.get("/Appointment", params={"patient": f"Patient/{patient}", "_include": "Appointment:patient"})
        assert included.status_code == 200, included.text
        assert len(_patients(included.json())) == 1
        _assert_masked(_patients(included.json())[0])
        everything = gp.get(f"/Patient/{patient}/$everything")
        assert everything.status_code == 200, everything.text
        assert len(_patients(everything.json())) == 1
        _assert_masked(_patients(everything.json())[0])
        assert "Testvej" not in everything.text and "Testvej" not in included.text


def test_unprotected_citizens_are_not_masked(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    with as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere:
        shown = elsewhere.get(f"/Patient/{patient}").json()
    assert shown["address"][0]["line"] == ["Testvej 1"] and "security" not in shown.get("meta", {})


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {p["id"] for p in _patients(response.json())}


def test_a_search_on_the_address_does_not_find_whom_it_would_mask(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    protected, plain = make_patient(client, units, protected=True), make_patient(client, units)
    by_address = {"address-city": "Odense C", "_id": f"{protected},{plain}"}
    with as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere:
        assert _ids(elsewhere.get("/Patient", params=by_address)) == {plain}
        assert _ids(elsewhere.get("/Patient", params={**by_address, "_count": "1"})) == {plain}  # the page is full
        sorted_by = {"_id": f"{protected},{plain}", "_sort": "address"}
        assert _ids(elsewhere.get("/Patient", params=sorted_by)) == {plain}
        assert _ids(elsewhere.get("/Patient", params={"_id": protected})) == {protected}  # found otherwise, masked
    with as_user(server, "nurse", units.other_home_care, "ESP_APPOINTMENTS") as elsewhere:
        chained = elsewhere.get("/Appointment", params={"patient.address-city": "Odense C"})
        assert chained.status_code == 403
        assert chained.json()["issue"][0]["details"]["coding"][0]["code"] == "address_search_protected"
        through_practitioner = elsewhere.get("/Appointment", params={"practitioner.address-city": "Odense C"})
        assert through_practitioner.status_code == 200, through_practitioner.text
    with as_user(server, "nurse", units.home_care, "ESP_STAMKORT") as own_municipality:
        assert _ids(own_municipality.get("/Patient", params=by_address)) == {protected, plain}
    assert _ids(client.get("/Patient", params=by_address)) == {protected, plain}  # the administrator
    assert client.get("/Appointment", params={"patient.address-city": "Odense C"}).status_code == 200
