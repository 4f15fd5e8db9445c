"""rest-hook payloads show a protected citizen exactly as the subscriber's own read would (both backends).

Staff outside the citizen's municipality get the Patient with its address masked (``ADRESSEBESKYTTET``, the
``REDACTED`` label, no narrative) in JSON and XML payloads; staff of the citizen's own municipality get the
address. A Subscription whose criteria ask about the address never tells staff elsewhere that a protected
citizen matched, as their search would not: neither by a rest-hook call nor by a websocket ping.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.api.conftest import LiveServer
from tests.api.overview.helpers import JSON, as_user, make_patient, make_units, token_at
from tests.api.subscriptions.receiver import Received, Receiver
from tests.api.subscriptions.test_rest_hook import subscribe, subscription
from tests.api.subscriptions.test_websocket import socket_url, websocket_subscription

MASKED = [{"use": "home", "text": "ADRESSEBESKYTTET"}]
REDACTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED"}


def _touch(client: httpx.Client, patient: str) -> None:
    """A new version of the Patient (as a register update would write it)."""
    body: dict[str, Any] = client.get(f"/Patient/{patient}").json()
    body["telecom"] = [*body.get("telecom", []), {"system": "phone", "value": f"6{len(body.get('telecom', [])):07d}"}]
    response = client.put(f"/Patient/{patient}", json=body, headers=JSON)
    assert response.status_code == 200, response.text


def _until_version(receiver: Receiver, patient: str, version: str) -> list[Received]:
    """The calls up to the one carrying ``version`` of the Patient (a version written just before the
    Subscription was taken on may be notified first)."""
    calls = [receiver.next()]
    while not (calls[-1].path.endswith(f"/{patient}") and _version(calls[-1]) == version):
        calls.append(receiver.next())
    return calls


def _version(call: Received) -> str | None:
    if call.body.startswith(b"<"):
        return call.body.split(b'<versionId value="', 1)[1].split(b'"', 1)[0].decode()
    return str(httpx.Response(200, content=call.body).json()["meta"]["versionId"])


def test_a_payload_masks_a_protected_address_outside_the_municipality(server: LiveServer, client: httpx.Client) -> None:
    units = make_units(client)
    patient = make_patient(client, units, protected=True)
    criteria = f"Patient?_id={patient}"
    with (
        Receiver() as elsewhere_json,
        Receiver() as elsewhere_xml,
        Receiver() as own,
        as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere_nurse,
        as_user(server, "nurse", units.home_care, "ESP_STAMKORT") as own_nurse,
    ):
        subscribe(elsewhere_nurse, subscription(criteria, elsewhere_json.url, payload="application/fhir+json"))
        subscribe(elsewhere_nurse, subscription(criteria, elsewhere_xml.url, payload="application/fhir+xml"))
        subscribe(own_nurse, subscription(criteria, own.url, payload="application/fhir+json"))
        _touch(client, patient)

        for call in _until_version(elsewhere_json, patient, "2"):
            assert (call.method, call.path) == ("PUT", f"/hook/Patient/{patient}")
            shown = httpx.Response(200, content=call.body).json()
            assert shown["address"] == MASKED and REDACTED in shown["meta"]["security"]
            assert "text" not in shown and b"Testvej" not in call.body and b"5000" not in call.body

        for xml in _until_version(elsewhere_xml, patient, "2"):
            assert b"ADRESSEBESKYTTET" in xml.body and b"Testvej" not in xml.body and b"Odense" not in xml.body

        unmasked = httpx.Response(200, content=_until_version(own, patient, "2")[-1].body).json()
        assert unmasked["address"][0]["line"] == ["Testvej 1"]
        assert REDACTED not in unmasked["meta"].get("security", [])
        # What the payloads show is what each nurse's plain read shows.
        assert elsewhere_nurse.get(f"/Patient/{patient}").json()["address"] == MASKED
        assert own_nurse.get(f"/Patient/{patient}").json()["address"] == unmasked["address"]


def test_an_address_criterion_does_not_tell_staff_elsewhere_that_a_protected_citizen_matched(
    server: LiveServer, client: httpx.Client
) -> None:
    units = make_units(client)
    protected, plain = make_patient(client, units, protected=True), make_patient(client, units)
    criteria = f"Patient?address-city=Odense C&_id={protected},{plain}"
    with (
        Receiver() as elsewhere,
        Receiver() as own,
        as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere_nurse,
        as_user(server, "nurse", units.home_care, "ESP_STAMKORT") as own_nurse,
    ):
        subscribe(elsewhere_nurse, subscription(criteria, elsewhere.url, payload="application/fhir+json"))
        subscribe(own_nurse, subscription(criteria, own.url, payload="application/fhir+json"))
        _touch(client, protected)
        _until_version(own, protected, "2")
        _touch(client, plain)
        _until_version(own, plain, "2")
        # Notifications of one Subscription go out in order: had the protected citizen's change been sent to
        # staff elsewhere, it would have come before the later change of the other citizen.
        told = _until_version(elsewhere, plain, "2")
        assert {call.path for call in told} == {f"/hook/Patient/{plain}"}


def test_a_websocket_is_not_pinged_about_a_protected_citizen_found_by_address(
    server: LiveServer, client: httpx.Client
) -> None:
    """Pings follow the order of the changes: the marker's ping comes first unless the protected match leaked."""
    units = make_units(client)
    protected, marker = make_patient(client, units, protected=True), make_patient(client, units)
    token = token_at(server, "nurse", units.other_home_care, "ESP_STAMKORT")
    with as_user(server, "nurse", units.other_home_care, "ESP_STAMKORT") as elsewhere_nurse:
        by_address = subscribe(
            elsewhere_nurse, websocket_subscription(f"Patient?address-city=Odense C&_id={protected}")
        )
        by_id = subscribe(elsewhere_nurse, websocket_subscription(f"Patient?_id={marker}"))

    async def first_ping() -> list[str]:
        async with connect(socket_url(server), open_timeout=20) as socket:
            frames = []
            for id_ in (by_address, by_id):
                await socket.send(f"bind {id_} {token}")
                frames.append(str(await asyncio.wait_for(socket.recv(), 20)))
            await asyncio.to_thread(_touch, client, protected)
            await asyncio.to_thread(_touch, client, marker)
            frames.append(str(await asyncio.wait_for(socket.recv(), 20)))
            return frames

    assert asyncio.run(first_ping()) == [f"bound {by_address}", f"bound {by_id}", f"ping {by_id}"]
