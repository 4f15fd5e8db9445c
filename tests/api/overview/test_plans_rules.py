"""Shared plans over HTTP: only the owning organisation writes, interventions are checked, every sector reads."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import LiveServer
from tests.api.overview.helpers import JSON, as_user, at, details_code, make_patient, make_units

FSIII = "http://kl.dk/fhir/common/caresocial/CodeSystem/FSIII"


def plan(patient: str, owner: str, performer: str, status: str = "in-progress") -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": f"Patient/{patient}"},
        "author": {"reference": f"Organization/sor-{owner}"},
        "period": {"start": at(-10)},
        "activity": [
            {
                "detail": {
                    "code": {"coding": [{"system": FSIII, "code": "B2", "display": "Personlig pleje"}]},
                    "status": status,
                    "performer": [{"reference": f"Organization/sor-{performer}"}],
                    "scheduledPeriod": {"start": at(-10), "end": at(80)},
                }
            }
        ],
    }


def test_owner_writes_others_read_and_may_not_change(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    with as_user(server, "nurse", units.home_care, "ESP_PLANS") as nurse:
        made = nurse.post("/CarePlan", json=plan(patient, units.municipality, units.home_care), headers=JSON)
        assert made.status_code == 201, made.text
        stored = made.json()
        done = {**stored, "activity": [{"detail": {**stored["activity"][0]["detail"], "status": "completed"}}]}
        assert nurse.put(f"/CarePlan/{stored['id']}", json=done, headers=JSON).status_code == 200
    with as_user(server, "doctor", units.ward, "ESP_PLANS") as doctor:
        assert doctor.get(f"/CarePlan/{stored['id']}").status_code == 200
        refused = doctor.put(f"/CarePlan/{stored['id']}", json={**stored, "status": "revoked"}, headers=JSON)
        assert refused.status_code == 403 and details_code(refused) == "not_plan_owner"
        assert doctor.delete(f"/CarePlan/{stored['id']}").status_code == 403
        foreign = doctor.post("/CarePlan", json=plan(patient, units.municipality, units.ward), headers=JSON)
        assert foreign.status_code == 403


def test_interventions_are_checked(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units)
    with as_user(server, "nurse", units.home_care, "ESP_PLANS") as nurse:
        on_hold = nurse.post("/CarePlan", json=plan(patient, units.home_care, units.home_care, "on-hold"))
        assert on_hold.status_code == 422 and details_code(on_hold) == "intervention_status_not_allowed"
        body = plan(patient, units.home_care, units.home_care)
        body["activity"][0]["detail"]["performer"] = [{"display": "somebody"}]
        no_sor = nurse.post("/CarePlan", json=body, headers=JSON)
        assert no_sor.status_code == 422 and details_code(no_sor) == "intervention_performer_not_sor"
        body = plan(patient, units.home_care, units.home_care)
        del body["author"]
        ownerless = nurse.post("/CarePlan", json=body, headers=JSON)
        assert ownerless.status_code == 422 and details_code(ownerless) == "plan_owner_missing"
        for status in ("scheduled", "in-progress", "completed", "cancelled", "entered-in-error"):
            made = nurse.post("/CarePlan", json=plan(patient, units.home_care, units.practice, status), headers=JSON)
            assert made.status_code == 201, (status, made.text)
