"""Acknowledgements coming in: routed to the letter's sender, never acknowledged, only from the receiver."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bindeled.fhir.definitions import Definitions
from tests.api.messaging._hub import (
    CC_SENDER,
    EXAMPLES,
    HOSPITAL,
    MUNICIPALITY,
    acknowledgement_of,
    clean_hn,
    fresh,
    hops,
    new_envelope,
    post,
)
from tests.messaging._mutate import resource, sender_index, set_identifier

Sender = Callable[..., httpx.Client]


def _letter(as_sender: Sender, definitions: Definitions) -> str:
    bundle = fresh(clean_hn(definitions))
    assert post(as_sender(HOSPITAL[0]), bundle, definitions).status_code == 200
    return str(bundle["entry"][0]["resource"]["id"])


# The official Acknowledgements from the municipality to the hospital (the Flow examples are between
# other parties). The error ones carry MedCom's own error codes, which the pinned terminology package
# lost: the hub sets that package defect aside (messaging/hub/package_defects.py).
OFFICIAL_ACKS = sorted(
    f"acknowledgement/{p.name}" for p in (EXAMPLES / "acknowledgement").iterdir() if not p.name.startswith("Flow")
)


@pytest.mark.parametrize("name", OFFICIAL_ACKS)
def test_every_official_acknowledgement_is_taken(
    name: str, as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    letter = _letter(as_sender, definitions)
    ack = acknowledgement_of(letter, definitions, code="", name=name)
    code = resource(ack, "MessageHeader")["response"]["code"]
    response = post(as_sender(MUNICIPALITY[0]), ack, definitions, xml=name.endswith(".xml"))
    assert response.status_code == 200, response.text
    assert code in response.json()["issue"][0]["diagnostics"]
    assert "receiver-acknowledged" in hops(client, letter)


def test_the_receivers_acknowledgement_is_taken_and_passed_on(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    letter = _letter(as_sender, definitions)
    ack = acknowledgement_of(letter, definitions)
    response = post(as_sender(MUNICIPALITY[0]), ack, definitions, xml=True)
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "information"
    assert "receiver-acknowledged" in hops(client, letter)
    ack_id = ack["entry"][0]["resource"]["id"]
    assert hops(client, ack_id)[:2] == ["received", "validated"]


def test_an_acknowledgement_is_never_acknowledged_even_twice(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    letter = _letter(as_sender, definitions)
    ack = acknowledgement_of(letter, definitions)
    municipality = as_sender(MUNICIPALITY[0])
    assert post(municipality, ack, definitions).status_code == 200
    again = post(municipality, new_envelope(ack), definitions)
    assert again.status_code == 200
    assert again.json()["resourceType"] == "OperationOutcome"
    assert hops(client, letter).count("receiver-acknowledged") == 1


def test_only_the_receiver_may_acknowledge_a_letter(as_sender: Sender, definitions: Definitions) -> None:
    letter = _letter(as_sender, definitions)
    ack = acknowledgement_of(letter, definitions)
    org = ack["entry"][sender_index(ack)]["resource"]
    set_identifier(org, "urn:oid:1.2.208.176.1.1", CC_SENDER[0])
    set_identifier(org, "https://www.gs1.org/gln", CC_SENDER[1])
    response = post(as_sender(CC_SENDER[0]), ack, definitions)
    assert response.status_code == 403


def test_an_invalid_acknowledgement_is_refused_to_the_caller(as_sender: Sender, definitions: Definitions) -> None:
    letter = _letter(as_sender, definitions)
    ack = acknowledgement_of(letter, definitions, code="not-a-code")
    response = post(as_sender(MUNICIPALITY[0]), ack, definitions)
    assert response.status_code == 422
    assert response.json()["resourceType"] == "OperationOutcome"
