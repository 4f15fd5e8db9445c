"""Every kind of demo user over HTTP, and the refused-display label hiding data from every clinician's view."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bindeled.cli import main
from bindeled.security import DEMO_USERS
from bindeled.security.facts import REFUSED_DISPLAY
from tests.api.conftest import LiveServer
from tests.api.test_crud import JSON
from tests.api.test_security_api import CPR, _as

PURPOSE = {"gp": "SJ_READ", "doctor": "SJ_READ", "nurse": "SJ_READ", "sosu": "ESP_APPOINTMENTS"}
PURPOSE |= {"secretary": "ESP_APPOINTMENTS"}
CITIZEN2 = "6203853712"


def _code(response: httpx.Response) -> str:
    return str(response.json()["issue"][0]["details"]["coding"][0]["code"])


@pytest.mark.parametrize("user", [u.username for u in DEMO_USERS])
def test_token_command_works_for_every_demo_user(server: LiveServer, user: str) -> None:
    args = ["token", "--as", user, *(["--purpose", PURPOSE[user]] if user in PURPOSE else [])]
    result = CliRunner().invoke(main, args, env={"BINDELED_DATA_DIR": server.settings.data_dir})
    assert result.exit_code == 0, result.output
    headers = {"Authorization": f"Bearer {result.output.strip()}", "Accept": "application/fhir+json"}
    response = httpx.get(f"{server.base}/Patient", params={"_count": "1"}, headers=headers, timeout=60)
    assert response.status_code == 200, response.text


def test_role_limits_hold_over_http(server: LiveServer) -> None:
    with _as(server, "secretary", "ESP_APPOINTMENTS") as secretary:
        assert secretary.get("/Appointment", params={"_count": "1"}).status_code == 200
    with _as(server, "secretary", "FMK_READ") as secretary:
        refused = secretary.get("/MedicationRequest")
    assert refused.status_code == 403 and _code(refused) == "role_purpose_not_permitted"
    with _as(server, "epidemiologist") as epi:
        assert epi.get("/Observation", params={"_count": "1"}).status_code == 200
        medication = epi.get("/MedicationRequest")
    assert medication.status_code == 403 and _code(medication) in ("purpose_not_covering", "role_not_covering")


def test_the_operator_sees_platform_data_but_no_citizen(server: LiveServer, client: httpx.Client) -> None:
    marker = uuid.uuid4().hex
    patient = client.post(
        "/Patient", json={"resourceType": "Patient", "identifier": [{"system": CPR, "value": CITIZEN2}]}, headers=JSON
    ).json()
    org = client.post("/Organization", json={"resourceType": "Organization", "name": marker}, headers=JSON).json()
    with _as(server, "operator") as operator:
        assert operator.get(f"/Organization/{org['id']}").status_code == 200
        assert operator.get(f"/Patient/{patient['id']}").status_code == 404
        listing = operator.get("/Patient", params={"_id": patient["id"]}).json()
    assert "entry" not in listing


@pytest.fixture
def labelled(client: httpx.Client) -> Iterator[dict[str, Any]]:
    """A citizen with one result refused for display, one ordinary result and a report pointing at both."""
    patient = client.post(
        "/Patient",
        json={"resourceType": "Patient", "identifier": [{"system": CPR, "value": CITIZEN2}], "name": [{"family": "L"}]},
        headers=JSON,
    ).json()
    subject = {"reference": f"Patient/{patient['id']}"}
    code = {"text": f"lab-{uuid.uuid4().hex[:8]}"}
    base = {"resourceType": "Observation", "status": "final", "code": code, "subject": subject}
    refused = client.post("/Observation", json={**base, "meta": {"security": [REFUSED_DISPLAY]}}, headers=JSON).json()
    shown = client.post("/Observation", json=base, headers=JSON).json()
    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": code,
        "subject": subject,
        "result": [{"reference": f"Observation/{refused['id']}"}, {"reference": f"Observation/{shown['id']}"}],
    }
    made = client.post("/DiagnosticReport", json=report, headers=JSON).json()
    yield {"patient": patient["id"], "refused": refused["id"], "shown": shown["id"], "report": made["id"]}
    # Other tests expect probes to work once no labelled data is left.
    for path in (f"DiagnosticReport/{made['id']}", f"Observation/{refused['id']}", f"Observation/{shown['id']}"):
        assert client.delete(f"/{path}").status_code == 204


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", [])}


def test_refused_display_results_are_hidden_from_clinicians_and_citizens(
    server: LiveServer, labelled: dict[str, Any]
) -> None:
    by_subject = {"subject": f"Patient/{labelled['patient']}"}
    for user, purpose in (("gp", "SJ_READ"), ("doctor", "LAB_READ"), ("citizen2", None)):
        with _as(server, user, purpose) as viewer:
            assert viewer.get(f"/Observation/{labelled['refused']}").status_code == 404, user
            assert viewer.get(f"/Observation/{labelled['shown']}").status_code == 200, user
            found = viewer.get("/Observation", params=by_subject).json()
            assert _ids(found) == {labelled["shown"]}, user
            assert "total" not in found
            report = viewer.get(
                "/DiagnosticReport",
                params={"_id": labelled["report"], "_include": "DiagnosticReport:result"},
            ).json()
            assert _ids(report) == {labelled["report"], labelled["shown"]}, user
            history = viewer.get(f"/Observation/{labelled['refused']}/_history").json()
            assert "entry" not in history, user


def test_probes_cannot_detect_refused_display_results(server: LiveServer, labelled: dict[str, Any]) -> None:
    through_refused = {"_has:Observation:subject:_id": labelled["refused"]}
    through_shown = {"_has:Observation:subject:_id": labelled["shown"]}
    with _as(server, "gp", "SJ_READ") as gp:
        assert _ids(gp.get("/Patient", params=through_refused).json()) == set()
        assert _ids(gp.get("/Patient", params=through_shown).json()) == {labelled["patient"]}
        chained = gp.get("/DiagnosticReport", params={"result._id": labelled["refused"]}).json()
        assert _ids(chained) == set()
        assert _ids(gp.get("/DiagnosticReport", params={"result._id": labelled["shown"]}).json()) == {
            labelled["report"]
        }
    with _as(server, "epidemiologist") as epi:  # sees the labelled data, so a probe tells it nothing new
        assert _ids(epi.get("/Patient", params=through_refused).json()) == {labelled["patient"]}
        assert _ids(epi.get("/DiagnosticReport", params={"result._id": labelled["refused"]}).json()) == {
            labelled["report"]
        }


def test_surveillance_and_administrators_see_refused_display_results(
    server: LiveServer, client: httpx.Client, labelled: dict[str, Any]
) -> None:
    with _as(server, "epidemiologist") as epi:
        assert epi.get(f"/Observation/{labelled['refused']}").status_code == 200
        found = epi.get("/Observation", params={"subject": f"Patient/{labelled['patient']}"}).json()
    assert _ids(found) == {labelled["refused"], labelled["shown"]}
    assert client.get(f"/Observation/{labelled['refused']}").status_code == 200


def test_history_pages_are_full_although_versions_are_hidden(server: LiveServer, client: httpx.Client) -> None:
    """Versions refused for display are skipped and the page filled from older ones, so no page is short."""
    patient = client.post(
        "/Patient", json={"resourceType": "Patient", "identifier": [{"system": CPR, "value": CITIZEN2}]}, headers=JSON
    ).json()
    base = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": f"lab-{uuid.uuid4().hex[:8]}"},
        "subject": {"reference": f"Patient/{patient['id']}"},
    }
    refused_in = [False, True, True, False, False, True, False]  # versions 1..7, oldest first
    made = client.post("/Observation", json=base, headers=JSON).json()
    for version, refused in enumerate(refused_in[1:], start=2):
        body = {**base, "id": made["id"], "valueString": f"v{version}"}
        if refused:
            body["meta"] = {"security": [REFUSED_DISPLAY]}
        assert client.put(f"/Observation/{made['id']}", json=body, headers=JSON).status_code == 200
    shown = [str(v) for v in range(len(refused_in), 0, -1) if not refused_in[v - 1]]  # newest first: 7, 5, 4, 1

    with _as(server, "gp", "SJ_READ") as gp:
        pages, url = [], f"/Observation/{made['id']}/_history?_count=2"
        while url:
            page = gp.get(url).json()
            assert "total" not in page
            pages.append([e["resource"]["meta"]["versionId"] for e in page.get("entry", [])])
            following = [link["url"] for link in page["link"] if link["relation"] == "next"]
            url = following[0] if following else ""
            assert len(pages) < 10
    assert pages == [shown[:2], shown[2:]]

    admin_pages = client.get(f"/Observation/{made['id']}/_history", params={"_count": "2"}).json()
    assert admin_pages["total"] == len(refused_in)
    assert len(admin_pages["entry"]) == 2
