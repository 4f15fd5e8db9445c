"""``$message-status``: the hop history as AuditEvents, for the letter's sender, receiver and operators only."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bindeled.fhir.definitions import Definitions
from tests.api.messaging._hub import CC_SENDER, HN, HOSPITAL, MUNICIPALITY, clean_hn, fresh, post, register_unit

Sender = Callable[..., httpx.Client]


def _send(as_sender: Sender, definitions: Definitions) -> str:
    bundle = fresh(clean_hn(definitions))
    assert post(as_sender(HOSPITAL[0]), bundle, definitions).status_code == 200
    return str(bundle["entry"][0]["resource"]["id"])


def test_the_sender_sees_the_hops_as_audit_events(as_sender: Sender, definitions: Definitions) -> None:
    letter = _send(as_sender, definitions)
    response = as_sender(HOSPITAL[0]).get("/$message-status", params={"message": letter})
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset"
    events = [e["resource"] for e in bundle["entry"]]
    assert [e["subtype"][0]["code"] for e in events][:3] == ["received", "validated", "acknowledged"]
    first = events[0]
    assert first["resourceType"] == "AuditEvent"
    assert first["type"]["code"] == "transmit"
    assert first["entity"][0]["what"]["identifier"]["value"] == letter
    assert first["entity"][0]["detail"][0]["valueString"] == HN
    who = [a["who"]["identifier"]["value"] for a in first["agent"]]
    assert who == [HOSPITAL[1], MUNICIPALITY[1]]
    recorded = [e["recorded"] for e in events]
    assert recorded == sorted(recorded)


def test_the_receiver_and_operators_see_it_too(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    letter = _send(as_sender, definitions)
    for caller in (as_sender(MUNICIPALITY[0]), client):
        assert caller.get("/$message-status", params={"message": letter}).status_code == 200


def test_a_unit_above_the_sender_sees_it(as_sender: Sender, client: httpx.Client, definitions: Definitions) -> None:
    region = "999999999999997"
    register_unit(client, region, None)
    register_unit(client, HOSPITAL[0], HOSPITAL[1], part_of=region)
    letter = _send(as_sender, definitions)
    assert as_sender(region).get("/$message-status", params={"message": letter}).status_code == 200


def test_others_cannot_tell_a_letter_exists(as_sender: Sender, definitions: Definitions) -> None:
    letter = _send(as_sender, definitions)
    other = as_sender(CC_SENDER[0])
    hidden = other.get("/$message-status", params={"message": letter})
    unknown = other.get("/$message-status", params={"message": "8a0c1f52-3b1d-4c1e-9d4f-000000000000"})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["issue"] == unknown.json()["issue"]


def test_the_message_parameter_is_required(client: httpx.Client) -> None:
    assert client.get("/$message-status").status_code == 400


def test_anonymous_callers_are_refused(anonymous: httpx.Client) -> None:
    assert anonymous.get("/$message-status", params={"message": "x"}).status_code == 401
