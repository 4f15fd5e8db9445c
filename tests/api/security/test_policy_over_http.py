"""Property: over HTTP, the gate answers exactly what the pure policy decides.

Random principals (every kind of demo user, with a purpose and sometimes emergency access) read and
search random data of citizens under different blocks (none, a block on the GP by name, a block on a
hospital with all its sub-units), including a result labelled refused for display. The oracle is
:func:`bindeled.security.decide` over the running server's own registers snapshot; the HTTP status of
a read, and the ids a search returns, must be what it says.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.security import Action, decide
from bindeled.security.consent import INCLUDE_SUBUNITS
from bindeled.security.facts import REFUSED_DISPLAY, SOR_SYSTEM, target_of
from tests.api.conftest import LiveServer, token_for
from tests.api.test_crud import JSON
from tests.api.test_security_api import CPR, _block_consent

HOSPITAL = "10029999999100"
MEDICAL = "10079999999100"
GP_PRACTICE = "17459999999100"
HOME_CARE = "12519999999100"

USERS = ("gp", "doctor", "nurse", "sosu", "secretary", "epidemiologist", "operator", "citizen", "citizen2", "proxy")
PURPOSES = (None, "SJ_READ", "LAB_READ", "ESP_APPOINTMENTS", "FMK_READ", "SURVEILLANCE")


@dataclass
class Data:
    """Three citizens (no block, the GP blocked by name, the hospital blocked with its sub-units)."""

    patients: list[str]
    cprs: dict[str, str]
    resources: list[dict[str, Any]]
    cleanup: list[tuple[str, dict[str, Any]]]


def _cpr(rng: random.Random) -> str:
    return f"{61 + rng.randrange(28):02d}{rng.randrange(1, 13):02d}{rng.randrange(100):02d}{rng.randrange(10000):04d}"


def _org_block(patient: str) -> dict[str, Any]:
    consent = _block_consent(patient, "x")
    consent["provision"]["actor"][0]["reference"] = {"identifier": {"system": SOR_SYSTEM, "value": HOSPITAL}}
    consent["provision"]["extension"] = [{"url": INCLUDE_SUBUNITS, "valueBoolean": True}]
    return consent


def _post(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    made = client.post(f"/{body['resourceType']}", json=body, headers=JSON)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def _unit(sor: str) -> dict[str, Any]:
    return {"identifier": {"system": SOR_SYSTEM, "value": sor}}


@pytest.fixture(scope="module")
def data(server: LiveServer, admin_headers: dict[str, str]) -> Iterator[Data]:
    rng = random.Random(uuid.uuid4().int)
    headers = {"Accept": "application/fhir+json", **admin_headers}
    with httpx.Client(base_url=server.base, timeout=60, headers=headers) as client:
        hospital = _post(client, {"resourceType": "Organization", "identifier": [_unit(HOSPITAL)["identifier"]]})
        medical = {"resourceType": "Organization", "identifier": [_unit(MEDICAL)["identifier"]]}
        medical["partOf"] = {"reference": f"Organization/{hospital['id']}"}
        cleanup: list[tuple[str, dict[str, Any]]] = [("delete", hospital), ("delete", _post(client, medical))]
        cprs = {"6101709995": "6101709995"}  # the demo citizen (also the proxy's), with the demo's own number
        patients, resources = [], []
        for index, cpr in enumerate(["6101709995", "6203853712", _cpr(rng)]):
            patient = _post(client, {"resourceType": "Patient", "identifier": [{"system": CPR, "value": cpr}]})
            ref = {"reference": f"Patient/{patient['id']}"}
            patients.append(patient["id"])
            cprs[f"Patient/{patient['id']}"] = cpr
            observation = {"resourceType": "Observation", "status": "final", "code": {"text": "crp"}, "subject": ref}
            for performer in (MEDICAL, GP_PRACTICE):
                resources.append(_post(client, {**observation, "performer": [_unit(performer)]}))
            refused = {**observation, "meta": {"security": [REFUSED_DISPLAY]}, "performer": [_unit(GP_PRACTICE)]}
            resources.append(_post(client, refused))
            appointment = {
                "resourceType": "Appointment",
                "status": "booked",
                "start": "2026-12-01T10:00:00+01:00",
                "end": "2026-12-01T10:30:00+01:00",
                "participant": [
                    {"actor": ref, "status": "accepted"},
                    {"actor": _unit(HOME_CARE), "status": "accepted"},
                ],
            }
            resources.append(_post(client, appointment))
            if index == 1:
                cleanup.append(("withdraw", _post(client, _block_consent(patient["id"], "GP7K2"))))
            if index == 2:
                cleanup.append(("withdraw", _post(client, _org_block(patient["id"]))))
        cleanup += [("delete", r) for r in resources]
        yield Data(patients, cprs, resources, cleanup)
        for how, item in reversed(cleanup):
            path = f"/{item['resourceType']}/{item['id']}"
            if how == "withdraw":
                assert client.put(path, json={**item, "status": "inactive"}, headers=JSON).status_code == 200
            else:
                assert client.delete(path).status_code == 204


def _headers(server: LiveServer, user: str, purpose: str | None, emergency: bool) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token_for(server, user)}", "Accept": "application/fhir+json"}
    if purpose:
        headers["X-Purpose-Of-Use"] = purpose
    if emergency:
        headers |= {"X-Emergency-Access": "true", "X-Emergency-Reason": "not_contactable"}
    return headers


def _expected_read(server: LiveServer, data: Data, headers: dict[str, str], resource: dict[str, Any]) -> int:
    gate = server.app.state.services.gate
    principal = gate.authenticate(headers)
    target = target_of(resource, data.cprs.get, {}.get)
    kind = str(resource["resourceType"])
    decision = decide(principal, Action("read", kind), target, gate.registers, gate.clock(), gate.settings)
    return {"allow": 200, "hide": 404}.get(decision.effect, decision.status)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user=st.sampled_from(USERS),
    purpose=st.sampled_from(PURPOSES),
    emergency=st.booleans(),
    item=st.integers(min_value=0, max_value=11),
)
def test_reads_answer_what_the_policy_decides(
    server: LiveServer, data: Data, user: str, purpose: str | None, emergency: bool, item: int
) -> None:
    headers = _headers(server, user, purpose, emergency)
    resource = data.resources[item]
    try:
        expected = _expected_read(server, data, headers, resource)
    except Exception as error:  # the context itself is refused (400) before any policy decision
        expected = getattr(error, "status", 500)
    response = httpx.get(f"{server.base}/{resource['resourceType']}/{resource['id']}", headers=headers, timeout=60)
    assert response.status_code == expected, (user, purpose, emergency, resource.get("performer"), response.text)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(user=st.sampled_from(USERS), purpose=st.sampled_from(PURPOSES), patient=st.integers(min_value=0, max_value=2))
def test_searches_return_exactly_what_the_policy_allows(
    server: LiveServer, data: Data, user: str, purpose: str | None, patient: int
) -> None:
    headers = _headers(server, user, purpose, False)
    subject = f"Patient/{data.patients[patient]}"
    response = httpx.get(f"{server.base}/Observation", params={"subject": subject}, headers=headers, timeout=60)
    mine = [r for r in data.resources if r["resourceType"] == "Observation" and r["subject"]["reference"] == subject]
    statuses = {_safe_expected(server, data, headers, r) for r in mine}
    if statuses & {400, 403}:
        assert response.status_code in statuses, response.text
        return
    assert response.status_code == 200, response.text
    found = {e["resource"]["id"] for e in response.json().get("entry", [])}
    assert found == {r["id"] for r in mine if _safe_expected(server, data, headers, r) == 200}
    assert "total" not in response.json() or user == "admin"


def _safe_expected(server: LiveServer, data: Data, headers: dict[str, str], resource: dict[str, Any]) -> int:
    try:
        return _expected_read(server, data, headers, resource)
    except Exception as error:
        return int(getattr(error, "status", 500))
