"""HospitalNotifications change the citizen's current-stay Encounter (the overview reads it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.messaging.hub.stay_effects import CURRENT_STAY_TAG, DECEASED_URL
from bindeled.messaging.messages import CPR_SYSTEM
from tests.api.messaging._hub import HOSPITAL, clean_hn, fresh, post, synthetic_cpr
from tests.messaging._mutate import resource
from tests.messaging.test_hospital_notification import build

Sender = Callable[..., httpx.Client]
TAG = f"{CURRENT_STAY_TAG['system']}|{CURRENT_STAY_TAG['code']}"


class Citizen:
    """One synthetic citizen's notifications, sent by the hospital."""

    def __init__(self, hospital: httpx.Client, admin: httpx.Client, definitions: Definitions) -> None:
        self.cpr = synthetic_cpr()
        self.hospital = hospital
        self.admin = admin
        self.definitions = definitions

    def send(self, code: str, earlier: str | None = None, start: str | None = None) -> str:
        bundle = fresh(build(clean_hn(self.definitions), code), cpr=self.cpr)
        if start is not None:
            resource(bundle, "Encounter")["period"]["start"] = start
        if earlier is not None:
            resource(bundle, "Provenance", -1)["entity"][0]["what"]["reference"] = f"MessageHeader/{earlier}"
        response = post(self.hospital, bundle, self.definitions)
        assert response.status_code == 200, response.text
        assert response.json()["entry"][0]["resource"]["response"]["code"] == "ok", response.text
        return str(bundle["entry"][0]["resource"]["id"])

    def patients(self) -> list[dict[str, Any]]:
        found = self.admin.get("/Patient", params={"identifier": f"{CPR_SYSTEM}|{self.cpr}"}).json()
        return [e["resource"] for e in found.get("entry", [])]

    def stays(self) -> list[dict[str, Any]]:
        patients = self.patients()
        if not patients:
            return []
        params = {"subject": f"Patient/{patients[0]['id']}", "_tag": TAG}
        found = self.admin.get("/Encounter", params=params).json()
        return [e["resource"] for e in found.get("entry", [])]

    def stay(self) -> dict[str, Any]:
        stays = self.stays()
        assert len(stays) == 1
        return stays[0]


@pytest.fixture
def citizen(as_sender: Sender, client: httpx.Client, definitions: Definitions) -> Citizen:
    return Citizen(as_sender(HOSPITAL[0]), client, definitions)


def test_admission_creates_the_patient_and_the_stay(citizen: Citizen) -> None:
    citizen.send("STIN")
    assert len(citizen.patients()) == 1
    stay = citizen.stay()
    assert stay["status"] == "in-progress"
    assert stay["class"]["code"] == "IMP"
    assert stay["period"] == {"start": "2022-12-07T12:00:00+02:00"}
    assert stay["serviceProvider"] == {"reference": f"Organization/sor-{HOSPITAL[0]}"}
    assert CURRENT_STAY_TAG in stay["meta"]["tag"]
    assert "extension" not in stay


def test_discharge_and_its_cancellation(citizen: Citizen) -> None:
    citizen.send("STIN")
    discharge = citizen.send("SLHJ")
    stay = citizen.stay()
    assert stay["status"] == "finished"
    assert stay["period"]["end"] == "2022-12-18T09:45:30+01:00"
    citizen.send("AN_SLHJ", earlier=discharge)
    stay = citizen.stay()
    assert stay["status"] == "in-progress"
    assert "end" not in stay["period"]


def test_leave_and_death(citizen: Citizen) -> None:
    citizen.send("STIN")
    citizen.send("STOR")
    assert citizen.stay()["status"] == "onleave"
    citizen.send("SLOR")
    assert citizen.stay()["status"] == "in-progress"
    death = citizen.send("MORS")
    stay = citizen.stay()
    assert stay["status"] == "finished"
    assert stay["extension"] == [{"url": DECEASED_URL, "valueBoolean": True}]
    citizen.send("AN_MORS", earlier=death)
    stay = citizen.stay()
    assert stay["status"] == "in-progress"
    assert "extension" not in stay


def test_a_cancelled_admission_leaves_no_stay(citizen: Citizen) -> None:
    admission = citizen.send("STIN")
    assert len(citizen.stays()) == 1
    citizen.send("AN_STIN", earlier=admission)
    assert citizen.stays() == []


def test_an_existing_patient_is_used_and_a_duplicate_changes_nothing(
    citizen: Citizen, client: httpx.Client, definitions: Definitions
) -> None:
    created = client.post(
        "/Patient", json={"resourceType": "Patient", "identifier": [{"system": CPR_SYSTEM, "value": citizen.cpr}]}
    )
    assert created.status_code == 201
    bundle = fresh(build(clean_hn(definitions), "STIN"), cpr=citizen.cpr)
    assert post(citizen.hospital, bundle, definitions).status_code == 200
    before = citizen.stay()
    assert before["subject"] == {"reference": f"Patient/{created.json()['id']}"}
    bundle["id"] = fresh(bundle)["id"]
    assert post(citizen.hospital, bundle, definitions).status_code == 200
    assert citizen.stay()["meta"]["versionId"] == before["meta"]["versionId"]
    assert len(citizen.patients()) == 1


def test_a_correction_replaces_the_event_it_revises(citizen: Citizen) -> None:
    admission = citizen.send("STIN")
    citizen.send("RE_STIN", earlier=admission, start="2022-12-07T14:30:00+01:00")
    stay = citizen.stay()
    assert stay["status"] == "in-progress"
    assert stay["period"] == {"start": "2022-12-07T14:30:00+01:00"}
