"""rest-hook Subscriptions on a live server (both backends): a real HTTP receiver, results sent over MLLP."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from bindeled.lab.current_view import REFUSED
from tests.api.conftest import LiveServer, token_for
from tests.api.lab.test_mllp_server import message, msa, send, synthetic_cpr, unique
from tests.api.subscriptions.receiver import Receiver
from tests.lab.messages import LAB

CITIZEN_CPR = "6101709995"
REFUSAL = b"ARV|1|A|ALL^All^HL70717|PAT^Patient request^HL70719\rORC|RE|R1000"


def subscription(criteria: str, endpoint: str, *, payload: str | None = None, **channel: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "New and corrected microbiology results",
        "criteria": criteria,
        "channel": {"type": "rest-hook", "endpoint": endpoint, **channel},
    }
    if payload:
        body["channel"]["payload"] = payload
    return body


def as_user(server: LiveServer, user: str, **kwargs: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for(server, user, **kwargs)}", "Accept": "application/fhir+json"}
    return httpx.Client(base_url=server.base, headers=headers, timeout=60)


def subscribe(client: httpx.Client, body: dict[str, Any]) -> str:
    """Create the Subscription and wait until the server has taken it on (status ``active``)."""
    created = client.post("/Subscription", json=body, headers={"Content-Type": "application/fhir+json"})
    assert created.status_code == 201, created.text
    return wait_for_status(client, created.json()["id"], "active")


def wait_for_status(client: httpx.Client, id_: str, status: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get(f"/Subscription/{id_}").json()["status"] == status:
            return id_
        time.sleep(0.05)
    raise AssertionError(f"Subscription/{id_} did not become {status}")


def sample_criteria(sample: str) -> str:
    return f"DiagnosticReport?identifier=urn:bindeled:lab:{LAB}:sample|{sample}"


def test_new_and_corrected_results_are_posted_with_the_headers(server: LiveServer, client: httpx.Client) -> None:
    sample, cpr = unique("S"), synthetic_cpr()
    with Receiver() as receiver:
        body = subscription(sample_criteria(sample), receiver.url, header=["Authorization: Bearer hook-secret"])
        subscribe(client, body)
        assert msa(send(server, message(sample, unique("F"), cpr))[0])[0] == "AA"
        first = receiver.next()
        assert (first.method, first.path, first.body) == ("POST", "/hook", b"")
        assert first.headers["authorization"] == "Bearer hook-secret"
        send(server, message(sample, unique("C"), cpr, status="C", sent="20260311090000"))
        assert receiver.next().method == "POST"
        assert receiver.calls.empty()


def test_a_payload_is_put_to_the_endpoint_as_a_fhir_base(server: LiveServer, client: httpx.Client) -> None:
    sample, cpr = unique("S"), synthetic_cpr()
    with Receiver() as receiver:
        subscribe(client, subscription(sample_criteria(sample), receiver.url, payload="application/fhir+json"))
        send(server, message(sample, unique("F"), cpr))
        call = receiver.next()
        report = httpx.Response(200, content=call.body).json()
        assert (call.method, call.path) == ("PUT", f"/hook/DiagnosticReport/{report['id']}")
        assert call.headers["content-type"] == "application/fhir+json"
        assert (report["resourceType"], report["status"]) == ("DiagnosticReport", "final")


def test_a_citizens_subscription_only_ever_hears_of_their_own_visible_results(server: LiveServer) -> None:
    mine, others, refused = unique("S"), unique("S"), unique("S")
    with Receiver() as receiver, as_user(server, "citizen") as citizen:
        subscribe(citizen, subscription("DiagnosticReport?status=final", receiver.url, payload="application/fhir+json"))
        hidden = message(refused, unique("R"), CITIZEN_CPR).replace(b"ORC|RE|R1000", REFUSAL)
        acks = send(
            server, message(others, unique("O"), synthetic_cpr()), hidden, message(mine, unique("M"), CITIZEN_CPR)
        )
        assert [msa(a)[0] for a in acks] == ["AA", "AA", "AA"]
        call = receiver.next()
        identifiers = httpx.Response(200, content=call.body).json()["identifier"]
        assert {"system": f"urn:bindeled:lab:{LAB}:sample", "value": mine} in identifiers
        time.sleep(1)  # let any (wrong) later notification arrive before checking there was none
        assert receiver.calls.empty()


def test_a_refused_result_reaches_surveillance(server: LiveServer) -> None:
    sample = unique("S")
    with Receiver() as receiver, as_user(server, "epidemiologist") as epidemiologist:
        subscribe(epidemiologist, subscription(sample_criteria(sample), receiver.url, payload="application/fhir+json"))
        send(server, message(sample, unique("R"), synthetic_cpr()).replace(b"ORC|RE|R1000", REFUSAL))
        report = httpx.Response(200, content=receiver.next().body).json()
        assert REFUSED in report["meta"]["security"]


def test_repeated_failures_put_the_subscription_in_error(server: LiveServer, client: httpx.Client) -> None:
    sample, cpr = unique("S"), synthetic_cpr()
    with Receiver(status=503) as receiver:
        id_ = subscribe(client, subscription(sample_criteria(sample), receiver.url))
        for status, sent in (("P", "20260309080000"), ("F", "20260310120000"), ("C", "20260311090000")):
            send(server, message(sample, unique(status), cpr, status=status, sent=sent))
            receiver.next()
        wait_for_status(client, id_, "error")
    assert client.get(f"/Subscription/{id_}").json()["error"] == "The endpoint answered HTTP 503"


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"criteria": "DiagnosticReport?no-such-parameter=1"}, "Subscription.criteria"),
        ({"criteria": "NotAType?status=final"}, "Subscription.criteria"),
        ({"channel": {"type": "email", "endpoint": "mailto:x@example.org"}}, "Subscription.channel.type"),
        ({"channel": {"type": "rest-hook", "endpoint": "ftp://example.org"}}, "Subscription.channel.endpoint"),
        (
            {"channel": {"type": "rest-hook", "endpoint": "http://x", "header": ["no colon"]}},
            "Subscription.channel.header[0]",
        ),
    ],
)
def test_a_subscription_the_server_cannot_honour_goes_to_error(
    client: httpx.Client, change: dict[str, Any], element: str
) -> None:
    body = {**subscription("DiagnosticReport?status=final", "http://127.0.0.1:9/hook"), **change}
    created = client.post("/Subscription", json=body, headers={"Content-Type": "application/fhir+json"})
    assert created.status_code == 201  # any valid R4 Subscription is kept as sent
    id_ = wait_for_status(client, created.json()["id"], "error")
    assert client.get(f"/Subscription/{id_}").json()["error"].endswith(f"({element})")


def test_only_the_owner_sees_and_changes_a_subscription(server: LiveServer) -> None:
    with as_user(server, "citizen") as citizen, as_user(server, "citizen2") as other:
        body = subscription("DiagnosticReport?status=final", "http://127.0.0.1:9/hook")
        created = citizen.post("/Subscription", json=body, headers={"Content-Type": "application/fhir+json"}).json()
        assert citizen.get(f"/Subscription/{created['id']}").status_code == 200
        assert other.get(f"/Subscription/{created['id']}").status_code == 404
        assert other.delete(f"/Subscription/{created['id']}").status_code == 404
        found = other.get("/Subscription", params={"_id": created["id"]}).json()
        assert found.get("entry", []) == []
        assert citizen.patch(f"/Subscription/{created['id']}", json=[]).status_code == 405
        assert citizen.delete(f"/Subscription/{created['id']}").status_code == 204


def test_a_subscription_past_its_end_is_switched_off(client: httpx.Client) -> None:
    body = {**subscription("DiagnosticReport?status=final", "http://127.0.0.1:9/hook"), "end": "2020-01-01T00:00:00Z"}
    created = client.post("/Subscription", json=body, headers={"Content-Type": "application/fhir+json"})
    wait_for_status(client, created.json()["id"], "off")


def test_a_subscription_written_without_an_owner_never_notifies_nor_keeps_a_secret(client: httpx.Client) -> None:
    secret = f"Bearer {unique('secret')}"
    entry = {
        "fullUrl": "urn:uuid:6f1b7c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e",
        "resource": subscription(
            "DiagnosticReport?status=final", "http://127.0.0.1:9/hook", header=[f"Authorization: {secret}"]
        ),
        "request": {"method": "POST", "url": "Subscription"},
    }
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    answer = client.post("/", json=bundle, headers={"Content-Type": "application/fhir+json"})
    assert answer.status_code == 200, answer.text
    location = answer.json()["entry"][0]["response"]["location"]
    id_ = location.split("Subscription/", 1)[1].split("/")[0]
    wait_for_status(client, id_, "error")
    stored = client.get(f"/Subscription/{id_}").json()
    assert "owner" in stored["error"]
    assert stored["channel"]["header"] == ["Authorization: [redacted]"]
    assert secret not in client.get(f"/Subscription/{id_}/_history").text
