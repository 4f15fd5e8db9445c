"""Delivery through the live server: mailboxes, the dead-letter list and its replay, over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.messaging.hub.endpoints import ReceiverEndpoint, endpoint_id, endpoint_resource
from tests.api.conftest import LiveServer, token_for
from tests.api.messaging._hub import (
    HN,
    HOSPITAL,
    MUNICIPALITY,
    clean_hn,
    fresh,
    gln_with_check_digit,
    hops,
    post,
    register_unit,
    synthetic_cpr,
)


def eventually(check: Callable[[], Any], *, within: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy (the delivery worker runs in the server)."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def mailbox(client: httpx.Client, gln: str, **params: str) -> httpx.Response:
    return client.get("/$mailbox", params={"receiver": gln, **params})


def message_ids(searchset: dict[str, Any]) -> list[str]:
    return [entry["resource"]["entry"][0]["resource"]["id"] for entry in searchset.get("entry", [])]


@pytest.fixture
def operator(server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Accept": "application/fhir+json", "Authorization": f"Bearer {token_for(server, 'operator')}"}
    with httpx.Client(base_url=server.base, timeout=60, headers=headers) as client:
        yield client


def test_a_letter_lands_in_the_receivers_mailbox_and_only_it_may_read_it(
    as_sender: Callable[..., httpx.Client], definitions: Definitions
) -> None:
    hospital = as_sender(HOSPITAL[0])
    municipality = as_sender(MUNICIPALITY[0])
    bundle = fresh(clean_hn(definitions), cpr=synthetic_cpr())
    message_id = bundle["entry"][0]["resource"]["id"]
    response = post(hospital, bundle, definitions)
    assert response.status_code == 200, response.text

    def arrived() -> bool:
        answer = mailbox(municipality, MUNICIPALITY[1], _count="1000")
        assert answer.status_code == 200, answer.text
        return message_id in message_ids(answer.json())

    assert eventually(arrived)
    found = [e["resource"] for e in mailbox(municipality, MUNICIPALITY[1], _count="1000").json()["entry"]]
    (letter,) = [b for b in found if b["entry"][0]["resource"]["id"] == message_id]
    assert letter == bundle
    assert "delivered" in hops(hospital, message_id)
    assert mailbox(hospital, MUNICIPALITY[1]).status_code == 403
    assert mailbox(municipality, "123").status_code == 400


def test_the_hubs_acknowledgement_reaches_the_senders_mailbox(
    as_sender: Callable[..., httpx.Client], definitions: Definitions
) -> None:
    hospital = as_sender(HOSPITAL[0])
    bundle = fresh(clean_hn(definitions), cpr=synthetic_cpr())
    response = post(hospital, bundle, definitions)
    assert response.status_code == 200, response.text
    ack_id = response.json()["entry"][0]["resource"]["id"]

    def arrived() -> bool:
        return ack_id in message_ids(mailbox(hospital, HOSPITAL[1], _count="1000").json())

    assert eventually(arrived)


def _push_receiver(admin: httpx.Client, url: str) -> tuple[str, str]:
    """A new unit receiving hospital notifications by push at ``url``."""
    sor = "9" + str(uuid.uuid4().int)[:14]
    gln = gln_with_check_digit("579" + str(uuid.uuid4().int)[:9])
    register_unit(admin, sor, gln)
    endpoint = ReceiverEndpoint(gln, sor, "push", url, frozenset({(HN, "3.0")}))
    answer = admin.put(f"/Endpoint/{endpoint_id(gln)}", json=endpoint_resource(endpoint))
    assert answer.status_code in (200, 201), answer.text
    return sor, gln


def _addressed_to(bundle: dict[str, Any], sor: str, gln: str) -> dict[str, Any]:
    text = jsonio.encode(bundle).decode().replace(MUNICIPALITY[0], sor).replace(MUNICIPALITY[1], gln)
    return jsonio.decode(text)


def _dead_ids(client: httpx.Client) -> list[str]:
    answer = client.get("/$dead-letters", params={"_count": "1000"})
    assert answer.status_code == 200, answer.text
    return [
        part["valueString"]
        for p in answer.json().get("parameter", [])
        if p["name"] == "deadLetter"
        for part in p["part"]
        if part["name"] == "messageId"
    ]


def test_a_refused_push_is_dead_lettered_and_an_operator_replays_it(
    server: LiveServer,
    client: httpx.Client,
    operator: httpx.Client,
    as_sender: Callable[..., httpx.Client],
    definitions: Definitions,
) -> None:
    # The receiver's URL answers 404: a fatal error, never retried automatically.
    sor, gln = _push_receiver(client, f"{server.base}/no-such-receiver-{uuid.uuid4()}")
    hospital = as_sender(HOSPITAL[0])
    bundle = _addressed_to(fresh(clean_hn(definitions), cpr=synthetic_cpr()), sor, gln)
    message_id = bundle["entry"][0]["resource"]["id"]
    response = post(hospital, bundle, definitions)
    assert response.status_code == 200, response.text

    assert eventually(lambda: message_id in _dead_ids(operator))
    assert hops(hospital, message_id)[-2:] == ["failed", "dead-lettered"]
    assert hospital.get("/$dead-letters").status_code == 403

    replay = {"resourceType": "Parameters", "parameter": [{"name": "messageId", "valueString": message_id}]}
    assert hospital.post("/$replay-dead-letter", json=replay).status_code == 403
    answer = operator.post("/$replay-dead-letter", json=replay)
    assert answer.status_code == 200, answer.text
    assert "replayed" in hops(hospital, message_id)
    assert eventually(lambda: message_id in _dead_ids(operator))  # still refused: dead again

    unknown = {"resourceType": "Parameters", "parameter": [{"name": "messageId", "valueString": str(uuid.uuid4())}]}
    assert operator.post("/$replay-dead-letter", json=unknown).status_code == 404
    assert operator.post("/$replay-dead-letter", json={"resourceType": "Parameters"}).status_code == 400
    assert operator.post("/$replay-dead-letter", json={"resourceType": "Patient"}).status_code == 400
    assert operator.get("/$dead-letters", params={"_count": "x"}).status_code == 400
