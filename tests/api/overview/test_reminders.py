"""Appointment reminders through HTTP with real tokens, on both backends, against a real local SMS gateway.

A server of its own per backend runs the reminder worker with a short poll interval and the HTTP
sender pointed at a local gateway; tests wait (with a generous deadline) for what must happen.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bindeled.config import Settings
from tests.api.conftest import DK_CORE, LiveServer, _free_port, token_for
from tests.backends import BACKENDS, database_url_for
from tests.overview.apd.world import (
    citizen_headers,
    example,
    fresh,
    performer_of,
    register_units,
    staff_headers,
)
from tests.overview.reminders.gateway import Gateway, running_gateway

CITIZEN_CPR = "6101709995"
"""The demo citizen (and the proxy's principal)."""


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with running_gateway() as found:
        yield found


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, gateway: Gateway
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"reminders-{request.param}")
    with database_url_for(request.param, folder) as url:
        settings = Settings(
            database_url=url,
            port=_free_port(),
            log_json=False,
            fhir_profile_packages=(str(DK_CORE),),
            dev=True,
            data_dir=str(folder / "data"),
            reminder_sender="http",
            reminder_gateway_url=gateway.url,
            reminder_gateway_retries=0,
            reminder_poll_seconds=0.1,
            reminder_settle_seconds=2.0,
        )
        with LiveServer(settings) as server:
            admin = {"Authorization": f"Bearer {token_for(server, 'admin')}", "Accept": "application/fhir+json"}
            with httpx.Client(base_url=server.base, headers=admin, timeout=60) as client:
                register_units(client)
                patient = {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": CITIZEN_CPR}],
                    "name": [{"family": "Borger", "given": ["Carl"]}],
                }
                headers = {"If-None-Exist": f"identifier=urn:oid:1.2.208.176.1.2|{CITIZEN_CPR}"}
                assert client.post("/Patient", json=patient, headers=headers).status_code in (200, 201)
            yield server


def _as(live: LiveServer, username: str) -> httpx.Client:
    return httpx.Client(base_url=live.base, headers=citizen_headers(live.settings.data_dir, username), timeout=60)


def _params(**values: Any) -> dict[str, Any]:
    kinds = {"channel": "valueCode", "address": "valueString", "leadTimeMinutes": "valueInteger"}
    parameter = [
        {"name": name, "valueReference": {"reference": value}}
        if name == "patient"
        else {"name": name, kinds[name]: value}
        for name, value in values.items()
    ]
    return {"resourceType": "Parameters", "parameter": parameter}


def _value(parameters: dict[str, Any], name: str) -> Any:
    found = next(p for p in parameters["parameter"] if p["name"] == name)
    return next(v for k, v in found.items() if k.startswith("value"))


def _reminders(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for p in parameters["parameter"]:
        if p["name"] == "reminder":
            rows.append({part["name"]: next(v for k, v in part.items() if k.startswith("value")) for part in p["part"]})
    return rows


def _cda(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def _book(live: LiveServer, start: datetime, appointment_id: str | None = None) -> str:
    """Import an APD-DK appointment for the demo citizen starting at ``start``; its id."""
    document, new_id = fresh(example("DK-APD_Example_1_5_apd_region.xml"), cpr=CITIZEN_CPR)
    if appointment_id is not None:
        document = document.replace(new_id.encode(), appointment_id.encode())
    document = document.replace(b"20201207111500+0100", _cda(start).encode())
    document = document.replace(b"20201207123000+0100", _cda(start + timedelta(minutes=30)).encode())
    headers = {**staff_headers(live.settings.data_dir, performer_of(document)), "Content-Type": "application/xml"}
    answer = httpx.post(f"{live.base}/Appointment/$import-apd", content=document, headers=headers, timeout=60)
    assert answer.status_code in (200, 201), answer.text
    return appointment_id or new_id


def _wait(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _states(live: LiveServer, appointment_id: str) -> list[tuple[int, str]]:
    with _as(live, "citizen") as citizen:
        rows = _reminders(citizen.get("/$reminders").json())
    return [
        (r["version"], r["state"]) for r in rows if r["appointment"]["reference"] == f"Appointment/{appointment_id}"
    ]


def test_the_citizen_subscribes_reads_changes_and_unsubscribes(live: LiveServer) -> None:
    with _as(live, "citizen") as citizen:
        created = citizen.post("/$reminders", json=_params(channel="sms", address="+45 12 34 56 78"))
        assert created.status_code == 201, created.text
        assert _value(created.json(), "address") == "+4512345678"
        assert _value(created.json(), "leadTimeMinutes") == 1440
        changed = citizen.post(
            "/$reminders", json=_params(channel="email", address="carl@example.dk", leadTimeMinutes=90)
        )
        assert changed.status_code == 200
        read = citizen.get("/$reminders").json()
        assert (_value(read, "channel"), _value(read, "leadTimeMinutes")) == ("email", 90)
        assert citizen.delete("/$reminders").status_code == 204
        assert citizen.get("/$reminders").status_code == 404


@pytest.mark.parametrize(
    ("values", "location"),
    [
        ({"channel": "fax", "address": "12345678"}, "Parameters.parameter('channel')"),
        ({"channel": "sms", "address": "call me"}, "Parameters.parameter('address')"),
        ({"channel": "email", "address": "not-an-address"}, "Parameters.parameter('address')"),
        ({"channel": "sms", "address": "12345678", "leadTimeMinutes": 0}, "Parameters.parameter('leadTimeMinutes')"),
    ],
)
def test_bad_subscriptions_are_refused(live: LiveServer, values: dict[str, Any], location: str) -> None:
    with _as(live, "citizen") as citizen:
        answer = citizen.post("/$reminders", json=_params(**values))
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == [location]


def test_only_citizens_and_proxies_manage_reminders(live: LiveServer) -> None:
    staff = staff_headers(live.settings.data_dir, "325441000016006")
    answer = httpx.post(f"{live.base}/$reminders", json=_params(channel="sms", address="12345678"), headers=staff)
    assert answer.status_code == 403
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "reminders_for_citizens"
    assert httpx.get(f"{live.base}/$reminders").status_code == 401


def test_a_proxy_subscribes_for_the_citizen_they_represent_only(live: LiveServer) -> None:
    with _as(live, "citizen") as citizen:
        citizen.delete("/$reminders")
        own = citizen.get("/Patient", params={"identifier": f"urn:oid:1.2.208.176.1.2|{CITIZEN_CPR}"}).json()
    patient = f"Patient/{own['entry'][0]['resource']['id']}"
    with _as(live, "proxy") as proxy:
        answer = proxy.post("/$reminders", json=_params(channel="sms", address="87654321", patient=patient))
        assert answer.status_code == 201, answer.text
        assert _value(answer.json(), "patient") == {"reference": patient}
        assert proxy.get("/$reminders", params={"patient": patient}).status_code == 200
        unnamed = proxy.get("/$reminders")  # they represent two citizens: which one must be said
        assert unnamed.status_code == 400 and unnamed.json()["issue"][0]["expression"] == ["patient"]
        admin = {"Authorization": f"Bearer {token_for(live, 'admin')}"}
        strangers = [
            {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "6502801234"}]},
            {"resourceType": "Patient", "gender": "female"},  # no CPR number: nobody's own
        ]
        for stranger in strangers:
            stored = httpx.post(f"{live.base}/Patient", json=stranger, headers=admin).json()
            other = _params(channel="sms", address="87654321", patient=f"Patient/{stored['id']}")
            assert proxy.post("/$reminders", json=other).status_code == 404
    with _as(live, "citizen") as citizen:
        assert citizen.delete("/$reminders").status_code == 204


def test_reminders_are_sent_once_rescheduled_on_change_and_cancelled_with_the_appointment(
    live: LiveServer, gateway: Gateway
) -> None:
    number = f"+45{random.randint(20000000, 99999999)}"
    with _as(live, "citizen") as citizen:
        answer = citizen.post("/$reminders", json=_params(channel="sms", address=number, leadTimeMinutes=60))
        assert answer.status_code in (200, 201)
    now = datetime.now(UTC).replace(microsecond=0)

    soon = _book(live, now + timedelta(minutes=30))  # due at once
    _wait(lambda: _states(live, soon) == [(1, "sent")], "the reminder to be sent")
    mine = [m for m in gateway.received if m["to"] == number]
    assert len(mine) == 1 and "Regionshospitalet" in mine[0]["text"] and CITIZEN_CPR not in mine[0]["text"]

    later = _book(live, now + timedelta(days=3))
    _wait(lambda: _states(live, later) == [(1, "pending")], "the reminder to be scheduled")
    _book(live, now + timedelta(days=4), later)  # a replacement: a new version
    _wait(lambda: _states(live, later) == [(1, "superseded"), (2, "pending")], "the reminder to be rescheduled")

    staff = staff_headers(live.settings.data_dir, "325441000016006")
    stored = httpx.get(f"{live.base}/Appointment/{later}", headers=staff).json()
    stored.pop("meta")
    put = httpx.put(f"{live.base}/Appointment/{later}", json={**stored, "status": "cancelled"}, headers=staff)
    assert put.status_code == 200, put.text
    _wait(lambda: _states(live, later) == [(1, "superseded"), (2, "cancelled")], "the reminder to be cancelled")

    time.sleep(0.5)  # a few more worker rounds: nothing is sent twice
    assert _states(live, soon) == [(1, "sent")]
    assert len([m for m in gateway.received if m["to"] == number]) == 1
    with _as(live, "citizen") as citizen:
        assert citizen.delete("/$reminders").status_code == 204
