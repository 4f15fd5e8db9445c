"""Delivery through the live server: mailboxes, the dead-letter list and its replay, statistics, over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
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
    acknowledgement_of,
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


def _statistics(client: httpx.Client, **params: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """``$delivery-statistics`` as {(message type, sender GLN, receiver GLN): {figure: value}}."""
    answer = client.get("/$delivery-statistics", params=params)
    assert answer.status_code == 200, answer.text
    groups = {}
    for parameter in answer.json()["parameter"]:
        if parameter["name"] == "group":
            values = {
                part["name"]: next(v for k, v in part.items() if k.startswith("value")) for part in parameter["part"]
            }
            groups[(values["messageType"], values["senderGln"], values["receiverGln"])] = values
    return groups


def test_operators_see_delivery_statistics_per_type_and_receiver(
    server: LiveServer,
    client: httpx.Client,
    operator: httpx.Client,
    as_sender: Callable[..., httpx.Client],
    definitions: Definitions,
) -> None:
    start = datetime.now(UTC).isoformat()
    sor, dead_gln = _push_receiver(client, f"{server.base}/no-such-receiver-{uuid.uuid4()}")
    hospital = as_sender(HOSPITAL[0])
    refused = _addressed_to(fresh(clean_hn(definitions), cpr=synthetic_cpr()), sor, dead_gln)
    delivered = fresh(clean_hn(definitions), cpr=synthetic_cpr())  # to the municipality's mailbox
    for bundle in (refused, delivered):
        assert post(hospital, bundle, definitions).status_code == 200
    to_dead, to_municipality = (HN, HOSPITAL[1], dead_gln), (HN, HOSPITAL[1], MUNICIPALITY[1])

    def settled() -> bool:
        found = _statistics(operator, start=start)
        return found.get(to_dead, {}).get("failed") == 1 and found.get(to_municipality, {}).get("delivered") == 1

    assert eventually(settled)
    letter = delivered["entry"][0]["resource"]["id"]
    answer = post(as_sender(MUNICIPALITY[0]), acknowledgement_of(letter, definitions), definitions)
    assert answer.status_code == 200, answer.text

    figures = _statistics(operator, start=start)
    assert figures[to_municipality] | {"deliverySecondsP50": 0, "deliverySecondsP99": 0} == {
        "messageType": HN,
        "senderGln": HOSPITAL[1],
        "receiverGln": MUNICIPALITY[1],
        "letters": 1,
        "delivered": 1,
        "acknowledged": 1,
        "failed": 0,
        "resent": 0,
        "retrying": 0,
        "deliverySecondsP50": 0,
        "deliverySecondsP99": 0,
        "acknowledgementSecondsP50": figures[to_municipality]["acknowledgementSecondsP50"],
        "acknowledgementSecondsP99": figures[to_municipality]["acknowledgementSecondsP99"],
    }
    assert figures[to_municipality]["acknowledgementSecondsP50"] >= figures[to_municipality]["deliverySecondsP50"]
    assert (figures[to_dead]["letters"], figures[to_dead]["delivered"], figures[to_dead]["failed"]) == (1, 0, 1)
    assert "deliverySecondsP50" not in figures[to_dead]

    # A window before the letters holds none of them; only operators and administrators may look.
    earlier = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    assert to_dead not in _statistics(operator, start=earlier, end=start)
    assert hospital.get("/$delivery-statistics").status_code == 403
    assert _statistics(client, start=start)[to_dead]["failed"] == 1  # an administrator
    assert operator.get("/$delivery-statistics", params={"start": "yesterday"}).status_code == 400
    assert operator.get("/$delivery-statistics", params={"start": "2026-01-01T00:00:00"}).status_code == 400
    assert operator.get("/$delivery-statistics", params={"start": start, "end": start}).status_code == 400
