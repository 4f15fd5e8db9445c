"""APD-DK through HTTP with real tokens, on both backends: every example imports, exports and round-trips.

``import(export(import(doc))) == import(doc)``: the Appointment stored from an exported document
equals the one stored from the original (ids, versions and timestamps aside), and every field the
shared appointment shape carries is the same in the original and the exported document.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bindeled.overview.apd import ApdAppointment, read_apd
from tests.api.conftest import LiveServer
from tests.overview.apd.world import (
    EXAMPLES,
    citizen_headers,
    example,
    fresh,
    import_params,
    performer_of,
    register_units,
    staff_headers,
    synthetic_cpr,
)

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def units(client: httpx.Client) -> None:
    register_units(client)


def _import(server: LiveServer, document: bytes, sor: str | None = None, **params: str) -> httpx.Response:
    headers = {**staff_headers(server.settings.data_dir, sor or performer_of(document)), **XML}
    return httpx.post(
        f"{server.base}/Appointment/$import-apd", content=document, headers=headers, params=params, timeout=60
    )


def _export(server: LiveServer, appointment_id: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{server.base}/Appointment/{appointment_id}/$apd", headers=headers, timeout=60)


def _contract(apd: ApdAppointment) -> dict[str, Any]:
    """Every field the shared appointment shape keeps."""
    return {
        "citizen": apd.citizen.cpr,
        "appointment": apd.appointment_id,
        "start": apd.start,
        "end": apd.end,
        "owner type": apd.owner_type,
        "performer": apd.performer.sor,
        "phone": apd.performer.phone,
        "custodian": apd.custodian.sor,
        "reason": (apd.reason_text, apd.reason_snomed),
        "location": apd.location.sor if apd.location else "home",
        "room": apd.room if apd.location else None,
        "time is a guide": (apd.time_is_guide, apd.guide_text),
        "repetition": apd.repetition_id,
        "legal basis": apd.legal_basis,
    }


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_imports_exports_and_round_trips(server: LiveServer, units: None, name: str) -> None:
    document, appointment_id = fresh(example(name))
    performer = performer_of(document)
    first = _import(server, document, **import_params(document))
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["id"] == appointment_id and stored["status"] == "booked"

    exported = _export(server, appointment_id, staff_headers(server.settings.data_dir, performer))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/xml")
    original, again = read_apd(document), read_apd(exported.content)
    expected = _contract(original)
    if original.legal_basis is None and import_params(document):
        expected["legal basis"] = import_params(document)["legal-basis"]
    assert _contract(again) == expected

    second = _import(server, exported.content)
    assert second.status_code == 200, second.text  # the same appointment: a new version
    assert second.json()["meta"]["versionId"] == "2"
    assert _without_meta(second.json()) == _without_meta(stored)


def test_the_export_keeps_template_code_and_version(server: LiveServer, units: None) -> None:
    document, appointment_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"))
    assert _import(server, document).status_code == 201
    exported = _export(server, appointment_id, staff_headers(server.settings.data_dir, performer_of(document)))
    text = exported.text
    assert 'root="1.2.208.184.14.1"' in text and 'code="39289-4"' in text and 'extension="apd-v2.0.1"' in text


def test_a_replacement_document_stores_a_new_version(server: LiveServer, units: None, client: httpx.Client) -> None:
    document, appointment_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"))
    assert _import(server, document).status_code == 201
    moved = document.replace(b"20201207111500+0100", b"20201208091500+0100").replace(
        b"20201207123000+0100", b"20201208103000+0100"
    )
    answer = _import(server, moved)
    assert answer.status_code == 200
    assert answer.json()["start"] == "2020-12-08T09:15:00+01:00"
    history = client.get(f"/Appointment/{appointment_id}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]


def test_a_new_citizen_gets_a_patient_record(server: LiveServer, units: None, client: httpx.Client) -> None:
    cpr = synthetic_cpr()
    document, _ = fresh(example("DK-APD_Example_1_5_apd_region.xml"), cpr=cpr)
    answer = _import(server, document)
    assert answer.status_code == 201, answer.text
    found = client.get("/Patient", params={"identifier": f"urn:oid:1.2.208.176.1.2|{cpr}"}).json()
    assert len(found["entry"]) == 1
    patient = found["entry"][0]["resource"]
    assert patient["name"][0]["family"] == "Berggren" and patient["birthDate"] == "1948-12-25"
    actors = [p["actor"].get("reference") for p in answer.json()["participant"]]
    assert f"Patient/{patient['id']}" in actors


def _nothing_written(client: httpx.Client, appointment_id: str, cpr: str) -> None:
    assert client.get(f"/Appointment/{appointment_id}").status_code == 404
    found = client.get("/Patient", params={"identifier": f"urn:oid:1.2.208.176.1.2|{cpr}"}).json()
    assert found.get("entry", []) == []


BROKEN = [
    ("not xml", lambda d, c: b"this is not XML", 400, "/"),
    ("another root", lambda d, c: b"<Bundle xmlns='urn:hl7-org:v3'/>", 400, "/*"),
    (
        "external entity",
        lambda d, c: (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + d.split(b"?>", 1)[1].replace(b"<title>", b"<title>&x;", 1)
        ),
        400,
        "/",
    ),
    (
        "bad CPR",
        lambda d, c: d.replace(f'extension="{c}"'.encode(), b'extension="3213001234"'),
        422,
        "/ClinicalDocument/recordTarget/patientRole/id",
    ),
    (
        "unknown performer",
        lambda d, c: d.replace(b'extension="325441000016006"', b'extension="999999999999999"', 1),
        422,
        "/ClinicalDocument/component/structuredBody/component/section/entry/encounter/performer/assignedEntity/id",
    ),
    (
        "ends before it starts",
        lambda d, c: d.replace(b'<high value="20201207123000+0100"/>', b'<high value="20201207103000+0100"/>'),
        422,
        "/ClinicalDocument/component/structuredBody/component/section/entry/encounter/effectiveTime/high",
    ),
    (
        "no zone",
        lambda d, c: d.replace(b'<low value="20201207111500+0100"/>', b'<low value="20201207111500"/>'),
        422,
        "/ClinicalDocument/component/structuredBody/component/section/entry/encounter/effectiveTime/low",
    ),
    (
        "unknown owner type",
        lambda d, c: d.replace(b'code="RegionalAppointment"', b'code="PrivateAppointment"'),
        422,
        "/ClinicalDocument/component/structuredBody/component/section/entry/encounter/code",
    ),
    (
        "wrong profile version",
        lambda d, c: d.replace(b'extension="apd-v2.0.1"', b'extension="apd-v1.0"'),
        422,
        "/ClinicalDocument/documentationOf",
    ),
]


@pytest.mark.parametrize(("case", "damage", "status", "location"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_malformed_document_is_refused_with_its_xpath_and_nothing_is_written(
    server: LiveServer, units: None, client: httpx.Client, case: str, damage: Any, status: int, location: str
) -> None:
    cpr = synthetic_cpr()
    document, appointment_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"), cpr=cpr)
    broken = damage(document, cpr)
    answer = _import(server, broken, sor="325441000016006")
    assert answer.status_code == status, answer.text
    issue = answer.json()["issue"][0]
    assert issue["expression"] == [location]
    assert cpr not in answer.text
    _nothing_written(client, appointment_id, cpr)


def test_a_municipal_appointment_without_legal_basis_is_refused(
    server: LiveServer, units: None, client: httpx.Client
) -> None:
    cpr = synthetic_cpr()
    document, appointment_id = fresh(example("DK-APD_Example_1_4_apd_municipality_a.xml"), cpr=cpr)
    answer = _import(server, document)
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "legal_basis_missing"
    _nothing_written(client, appointment_id, cpr)
    assert _import(server, document, **{"legal-basis": "SEL-999"}).status_code == 422
    assert _import(server, document, **{"legal-basis": "SEL-83"}).status_code == 201


def test_only_the_owning_organisation_imports(server: LiveServer, units: None, client: httpx.Client) -> None:
    cpr = synthetic_cpr()
    document, appointment_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"), cpr=cpr)
    answer = _import(server, document, sor="345051000016004")
    assert answer.status_code == 403
    _nothing_written(client, appointment_id, cpr)


def test_the_body_must_be_xml(server: LiveServer) -> None:
    headers = {**staff_headers(server.settings.data_dir, "325441000016006"), "Content-Type": "application/json"}
    answer = httpx.post(f"{server.base}/Appointment/$import-apd", content=b"{}", headers=headers)
    assert answer.status_code == 415


def test_without_a_token_nothing_is_imported(server: LiveServer, anonymous: httpx.Client) -> None:
    document, _ = fresh(example("DK-APD_Example_1_5_apd_region.xml"))
    answer = anonymous.post("/Appointment/$import-apd", content=document, headers=XML)
    assert answer.status_code == 401


def test_the_citizen_exports_their_own_appointment_only(server: LiveServer, units: None) -> None:
    cpr = synthetic_cpr()
    document, appointment_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"), cpr=cpr)
    assert _import(server, document).status_code == 201
    citizen = citizen_headers(server.settings.data_dir, cpr=cpr)
    own = _export(server, appointment_id, citizen)
    assert own.status_code == 200 and read_apd(own.content).citizen.cpr == cpr
    other, other_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"))
    assert _import(server, other).status_code == 201
    assert _export(server, other_id, citizen).status_code == 404


def test_a_cancelled_appointment_has_no_document(server: LiveServer, units: None) -> None:
    document, appointment_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"))
    staff = staff_headers(server.settings.data_dir, performer_of(document))
    stored = _import(server, document).json()
    cancelled = {**stored, "status": "cancelled"}
    cancelled.pop("meta")
    put = httpx.put(f"{server.base}/Appointment/{appointment_id}", json=cancelled, headers=staff)
    assert put.status_code == 200, put.text
    answer = _export(server, appointment_id, staff)
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"] == ["Appointment.status"]
    assert _export(server, "no-such-appointment", staff).status_code == 404


def test_an_appointment_booked_through_rest_exports_as_apd(
    server: LiveServer, units: None, client: httpx.Client
) -> None:
    cpr = synthetic_cpr()
    patient = {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": cpr}]}
    patient_id = client.post("/Patient", json=patient).json()["id"]
    ext = "https://bindeled.dk/fhir/StructureDefinition/appointment-"
    appointment = {
        "resourceType": "Appointment",
        "extension": [
            {"url": ext + "owner-type", "valueCode": "regional"},
            {"url": ext + "performer", "valueReference": {"reference": "Organization/sor-325441000016006"}},
            {"url": ext + "custodian", "valueReference": {"reference": "Organization/sor-378631000016009"}},
            {"url": ext + "time-is-guide", "valueBoolean": True},
        ],
        "status": "booked",
        "reasonCode": [{"text": "Blodprøve"}],
        "start": "2027-03-01T08:30:00+01:00",
        "end": "2027-03-01T08:45:00+01:00",
        "participant": [
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
            {"actor": {"reference": "Location/sor-325441000016006"}, "status": "accepted"},
        ],
    }
    staff = staff_headers(server.settings.data_dir, "325441000016006")
    created = httpx.post(f"{server.base}/Appointment", json=appointment, headers=staff)
    assert created.status_code == 201, created.text
    exported = _export(server, created.json()["id"], staff)
    assert exported.status_code == 200, exported.text
    apd = read_apd(exported.content)
    assert (apd.citizen.cpr, apd.owner_type, apd.start, apd.end) == (
        cpr,
        "regional",
        "2027-03-01T08:30:00+01:00",
        "2027-03-01T08:45:00+01:00",
    )
    assert apd.location is not None and apd.location.sor == "325441000016006"
    assert (apd.performer.sor, apd.custodian.sor, apd.performer.phone) == (
        "325441000016006",
        "378631000016009",
        "66113322",
    )
    assert (apd.reason_text, apd.time_is_guide, apd.legal_basis) == ("Blodprøve", True, None)
