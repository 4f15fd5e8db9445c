"""The security gate over HTTP, with tokens from the development issuer through the real verification path."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bindeled.cli import main
from tests.api.conftest import LiveServer, token_for
from tests.api.test_crud import JSON

CPR = "urn:oid:1.2.208.176.1.2"


def _as(server: LiveServer, user: str, purpose: str | None = None, **extra: str) -> httpx.Client:
    kwargs = {"purpose": purpose} if purpose else {}
    headers = {
        "Authorization": f"Bearer {token_for(server, user, **kwargs)}",
        "Accept": "application/fhir+json",
        **extra,
    }
    return httpx.Client(base_url=server.base, timeout=60, headers=headers)


def _citizen(client: httpx.Client, cpr: str) -> str:
    body = {"resourceType": "Patient", "identifier": [{"system": CPR, "value": cpr}], "name": [{"family": "Gatesen"}]}
    response = client.post("/Patient", json=body, headers=JSON)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_no_token_is_401_and_explains_itself(anonymous: httpx.Client) -> None:
    response = anonymous.get("/Patient")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "missing_token"
    garbage = anonymous.get("/Patient", headers={"Authorization": "Bearer not.a.token"})
    assert garbage.status_code == 401
    assert anonymous.get("/metadata").status_code == 200  # the server's self-description stays public


def test_missing_purpose_is_400_with_a_specific_code(server: LiveServer) -> None:
    with _as(server, "gp") as gp:
        response = gp.get("/Patient")
    assert response.status_code == 400
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "missing_purpose"


def test_helper_under_trust_agreement_reads_appointments_not_medication(
    server: LiveServer, client: httpx.Client
) -> None:
    patient = _citizen(client, "6101709995")
    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-01T10:00:00+01:00",
        "end": "2026-12-01T10:30:00+01:00",
        "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
    }
    made = client.post("/Appointment", json=appointment, headers=JSON)
    assert made.status_code == 201, made.text
    with _as(server, "sosu", "ESP_APPOINTMENTS") as sosu:
        assert sosu.get(f"/Appointment/{made.json()['id']}").status_code == 200
        refused = sosu.get("/MedicationRequest")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "purpose_not_covering"
    with _as(server, "sosu", "FMK_READ") as sosu_fmk:
        no_agreement = sosu_fmk.get("/MedicationRequest")
    assert no_agreement.status_code == 403
    assert no_agreement.json()["issue"][0]["details"]["coding"][0]["code"] == "no_trust_agreement"


def test_citizen_sees_own_data_and_nothing_of_others(server: LiveServer, client: httpx.Client) -> None:
    own = _citizen(client, "6101709995")
    other = _citizen(client, "6202759996" if uuid.uuid4().int % 2 else "0303809997")
    with _as(server, "citizen") as citizen:
        assert citizen.get(f"/Patient/{own}").status_code == 200
        hidden = citizen.get(f"/Patient/{other}")
        listing = citizen.get("/Patient", params={"_count": "500"}).json()
    assert hidden.status_code == 404
    ids = {e["resource"]["id"] for e in listing.get("entry", [])}
    assert other not in ids
    assert "total" not in listing  # totals could reveal what is hidden


def test_writes_and_reads_are_audited_in_an_intact_chain(server: LiveServer, client: httpx.Client) -> None:
    _citizen(client, "6101709995")
    client.get("/Patient", params={"_count": "1"})
    result = CliRunner().invoke(main, ["audit", "verify", "--database", server.settings.database_url])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


@pytest.mark.parametrize("user", ["admin"])
def test_token_command_prints_a_token_the_server_accepts(server: LiveServer, user: str) -> None:
    result = CliRunner().invoke(main, ["token", "--as", user], env={"BINDELED_DATA_DIR": server.settings.data_dir})
    assert result.exit_code == 0, result.output
    token: Any = result.output.strip()
    response = httpx.get(f"{server.base}/Patient", params={"_count": "1"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    unknown = CliRunner().invoke(main, ["token", "--as", "nobody"], env={"BINDELED_DATA_DIR": server.settings.data_dir})
    assert unknown.exit_code == 2


def test_citizen_sees_in_minlog_who_read_their_data(server: LiveServer, client: httpx.Client) -> None:
    patient = _citizen(client, "6101709995")
    with _as(server, "gp", "SJ_READ") as gp:
        assert gp.get(f"/Patient/{patient}").status_code == 200
    with _as(server, "citizen") as citizen:
        log = citizen.get("/AuditEvent")
    assert log.status_code == 200, log.text
    events = [e["resource"] for e in log.json().get("entry", [])]
    assert events and all(e["resourceType"] == "AuditEvent" for e in events)
    names = {a.get("who", {}).get("display") for e in events for a in e.get("agent", [])}
    assert "Gitte Demo Praktiserende" in names
    with _as(server, "gp", "SJ_READ") as gp:
        staff_view = gp.get("/AuditEvent")
    assert staff_view.status_code in (200, 403)
    assert "Gitte Demo Praktiserende" not in staff_view.text  # the MinLog is served to the citizen only


def _block_consent(patient: str, authorisation_id: str) -> dict[str, Any]:
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
            "actor": [
                {
                    "role": {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}
                        ]
                    },
                    "reference": {"identifier": {"system": "https://autregweb.sst.dk", "value": authorisation_id}},
                }
            ],
        },
    }


def test_block_hides_data_and_emergency_access_reveals_it(server: LiveServer, client: httpx.Client) -> None:
    patient = _citizen(client, "6101709995")
    obs = client.post(
        "/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "puls"},
            "subject": {"reference": f"Patient/{patient}"},
        },
        headers=JSON,
    ).json()
    consent = client.post("/Consent", json=_block_consent(patient, "GP7K2"), headers=JSON)
    assert consent.status_code == 201, consent.text
    try:
        with _as(server, "gp", "SJ_READ") as gp:
            assert gp.get(f"/Observation/{obs['id']}").status_code == 404
            listing = gp.get("/Observation", params={"subject": f"Patient/{patient}"}).json()
            assert "entry" not in listing and "total" not in listing
            # Chains and _has work, never through the blocked data (tests/api/security/test_join_narrowing.py).
            probe = gp.get("/Patient", params={"_has:Observation:subject:status": "final", "_count": "1000"})
            assert probe.status_code == 200 and patient not in {
                e["resource"]["id"] for e in probe.json().get("entry", [])
            }
            chained = gp.get("/Observation", params={"subject:Patient.family": "Gatesen", "_count": "1000"})
            assert chained.status_code == 200
            assert obs["id"] not in {e["resource"]["id"] for e in chained.json().get("entry", [])}
            no_reason = gp.get(f"/Observation/{obs['id']}", headers={"X-Emergency-Access": "true"})
            assert no_reason.status_code == 400
            emergency = gp.get(
                f"/Observation/{obs['id']}", headers={"X-Emergency-Access": "true", "X-Emergency-Reason": "acute_care"}
            )
            assert emergency.status_code == 200, emergency.text
        with _as(server, "doctor", "SJ_READ") as doctor:  # the block names the GP only
            assert doctor.get(f"/Observation/{obs['id']}").status_code == 200
        with _as(server, "citizen") as citizen:
            events = [e["resource"] for e in citizen.get("/AuditEvent").json().get("entry", [])]
        assert any("emergency" in str(e).lower() and "Gitte Demo Praktiserende" in str(e) for e in events)
    finally:
        withdrawn = {**consent.json(), "status": "inactive"}
        assert client.put(f"/Consent/{withdrawn['id']}", json=withdrawn, headers=JSON).status_code == 200
    with _as(server, "gp", "SJ_READ") as gp:
        # Withdrawn, the block hides nothing more, also not inside a _has.
        assert gp.get(f"/Observation/{obs['id']}").status_code == 200
        probe = gp.get("/Patient", params={"_has:Observation:subject:_id": obs["id"]})
        assert [e["resource"]["id"] for e in probe.json().get("entry", [])] == [patient]


def test_audit_purge_keeps_the_chain_verifiable(server: LiveServer, client: httpx.Client) -> None:
    client.get("/Patient", params={"_count": "1"})
    env = {"BINDELED_MINLOG_RETENTION_DAYS": "3650"}
    purged = CliRunner().invoke(main, ["audit", "purge", "--database", server.settings.database_url], env=env)
    assert purged.exit_code == 0, purged.output
    assert purged.output.startswith("purged 0 MinLog entries and 0 audit records")
    verified = CliRunner().invoke(main, ["audit", "verify", "--database", server.settings.database_url])
    assert verified.exit_code == 0 and "intact" in verified.output
