"""The endpoint register over plain REST: administrators keep it, well-formed entries only."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bindeled.messaging.hub.endpoints import MESSAGE_TYPE_SYSTEM, ReceiverEndpoint, endpoint_id, endpoint_resource
from tests.api.messaging._hub import HN, HOSPITAL, gln_with_check_digit

Sender = Callable[..., httpx.Client]


def _entry(gln: str, *, mode: str = "push", url: str = "https://receiver.example/medcom") -> dict[str, object]:
    endpoint = ReceiverEndpoint(gln, "999999999999981", mode, url if mode == "push" else "", frozenset({(HN, "3.0")}))  # type: ignore[arg-type]
    return endpoint_resource(endpoint, name="Test receiver")


def test_an_administrator_registers_and_lists_receivers(client: httpx.Client) -> None:
    gln = gln_with_check_digit("579000088881")
    response = client.put(f"/Endpoint/{endpoint_id(gln)}", json=_entry(gln))
    assert response.status_code in (200, 201), response.text
    found = client.get("/Endpoint", params={"identifier": f"https://www.gs1.org/gln|{gln}"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [endpoint_id(gln)]
    coding = found["entry"][0]["resource"]["payloadType"][0]["coding"][0]
    assert coding == {"system": MESSAGE_TYPE_SYSTEM, "version": "3.0", "code": HN}


def test_a_sender_system_may_not_change_the_register(as_sender: Sender) -> None:
    gln = gln_with_check_digit("579000088882")
    response = as_sender(HOSPITAL[0]).put(f"/Endpoint/{endpoint_id(gln)}", json=_entry(gln))
    assert response.status_code == 403


def test_malformed_register_entries_are_refused(client: httpx.Client) -> None:
    gln = gln_with_check_digit("579000088883")
    other = gln_with_check_digit("579000088884")
    wrong_id = {**_entry(other), "id": endpoint_id(gln)}
    assert client.put(f"/Endpoint/{endpoint_id(gln)}", json=wrong_id).status_code == 422
    not_http = _entry(gln, url="ftp://receiver.example/")
    assert client.put(f"/Endpoint/{endpoint_id(gln)}", json=not_http).status_code == 422
    assert client.put(f"/Endpoint/{endpoint_id(gln)}", json=_entry(gln, mode="mailbox")).status_code == 201
