"""The R4 websocket channel on a live server (both backends): bind, bound, ping — with a real websocket client.

Binding is authenticated like the REST API: a bearer token in the upgrade request's ``Authorization``
header, or (as a browser must) in the bind message, ``bind <id> <token>``.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from tests.api.conftest import LiveServer, token_for
from tests.api.lab.test_mllp_server import message, msa, send, synthetic_cpr, unique
from tests.api.subscriptions.test_rest_hook import as_user, sample_criteria, subscribe
from tests.api.test_security_api import _block_consent

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"

CITIZEN_CPR = "6101709995"
REFUSAL = b"ARV|1|A|ALL^All^HL70717|PAT^Patient request^HL70719\rORC|RE|R1000"


def socket_url(server: LiveServer) -> str:
    return f"ws://127.0.0.1:{server.settings.port}/fhir/websocket"


def websocket_subscription(criteria: str) -> dict[str, object]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Tell my app about new results",
        "criteria": criteria,
        "channel": {"type": "websocket"},
    }


def bearer(server: LiveServer, user: str, **kwargs: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(server, user, **kwargs)}"}


async def bind_and_wait(server: LiveServer, id_: str, *payloads: bytes) -> list[str]:
    """Bind a socket to ``id_`` (as the administrator, token in the header), send ``payloads`` over MLLP,
    and return the frames up to the first ping."""
    async with connect(socket_url(server), open_timeout=20, additional_headers=bearer(server, "admin")) as socket:
        await socket.send(f"bind {id_}")
        frames = [str(await asyncio.wait_for(socket.recv(), 20))]
        acks = await asyncio.to_thread(send, server, *payloads)
        assert all(msa(ack)[0] == "AA" for ack in acks)
        frames.append(str(await asyncio.wait_for(socket.recv(), 20)))
        return frames


def test_a_bound_socket_is_pinged_about_a_new_result(server: LiveServer, client: httpx.Client) -> None:
    sample = unique("S")
    id_ = subscribe(client, websocket_subscription(sample_criteria(sample)))
    frames = asyncio.run(bind_and_wait(server, id_, message(sample, unique("F"), synthetic_cpr())))
    assert frames == [f"bound {id_}", f"ping {id_}"]


def test_a_citizens_socket_is_pinged_only_for_their_own_visible_results(server: LiveServer) -> None:
    """Pings go out in the order of the changes, so a marker Subscription shows what came before it.

    ``everything`` matches any final report the citizen may see; ``marker`` only a last, preliminary
    report. Another citizen's result and a refused one come first: had either been notified, an extra
    ``ping everything`` would arrive before the one for the citizen's own result.
    """
    others, hidden, mine, marker = (unique("S") for _ in range(4))
    with as_user(server, "citizen") as citizen:
        everything = subscribe(citizen, websocket_subscription("DiagnosticReport?status=final"))
        last = subscribe(citizen, websocket_subscription(sample_criteria(marker)))
    payloads = (
        message(others, unique("O"), synthetic_cpr()),
        message(hidden, unique("R"), CITIZEN_CPR).replace(b"ORC|RE|R1000", REFUSAL),
        message(mine, unique("M"), CITIZEN_CPR),
        message(marker, unique("P"), CITIZEN_CPR, status="P"),
    )

    async def run() -> list[str]:
        token = token_for(server, "citizen")
        async with connect(socket_url(server), open_timeout=20) as socket:  # a browser: the token in the message
            for id_ in (everything, last):
                await socket.send(f"bind {id_} {token}")
                assert await asyncio.wait_for(socket.recv(), 20) == f"bound {id_}"
            acks = await asyncio.to_thread(send, server, *payloads)
            assert [msa(ack)[0] for ack in acks] == ["AA"] * 4
            frames = [str(await asyncio.wait_for(socket.recv(), 20))]
            while frames[-1] != f"ping {last}":
                frames.append(str(await asyncio.wait_for(socket.recv(), 20)))
            return frames

    assert asyncio.run(run()) == [f"ping {everything}", f"ping {last}"]


def test_binding_an_unknown_or_rest_hook_subscription_is_an_error(server: LiveServer, client: httpx.Client) -> None:
    async def bind(id_: str) -> str:
        async with connect(socket_url(server), open_timeout=20, additional_headers=bearer(server, "admin")) as socket:
            await socket.send(f"bind {id_}")
            return str(await asyncio.wait_for(socket.recv(), 20))

    hook = {
        **websocket_subscription("DiagnosticReport?status=final"),
        "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/x"},
    }
    created = client.post("/Subscription", json=hook, headers={"Content-Type": "application/fhir+json"}).json()
    assert asyncio.run(bind("no-such-subscription")) == "error no-such-subscription"
    assert asyncio.run(bind(created["id"])) == f"error {created['id']}"


def test_binding_is_authenticated_and_for_the_owner_only(server: LiveServer) -> None:
    with as_user(server, "citizen") as citizen:
        id_ = subscribe(citizen, websocket_subscription("DiagnosticReport?status=final"))

    async def bind(message: str, headers: dict[str, str] | None = None) -> str:
        async with connect(socket_url(server), open_timeout=20, additional_headers=headers) as socket:
            await socket.send(message)
            return str(await asyncio.wait_for(socket.recv(), 20))

    assert asyncio.run(bind(f"bind {id_}")) == f"error {id_} missing_token"
    assert asyncio.run(bind(f"bind {id_} not.a.token")) == f"error {id_} invalid_token"
    assert asyncio.run(bind(f"bind {id_} {token_for(server, 'citizen2')}")) == f"error {id_}"
    assert asyncio.run(bind(f"bind {id_}", bearer(server, "operator"))) == f"error {id_}"
    assert asyncio.run(bind(f"bind {id_}", bearer(server, "citizen"))) == f"bound {id_}"
    assert asyncio.run(bind(f"bind {id_} {token_for(server, 'citizen')}")) == f"bound {id_}"
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(bind(f"bind {id_}", {"Authorization": "Bearer not.a.token"}))
    assert refused.value.response.status_code == 403


def test_a_block_made_after_binding_stops_the_pings(server: LiveServer, client: httpx.Client) -> None:
    """The GP's socket hears of the citizen's result; once the citizen blocks the GP, it hears no more.

    ``marker`` (a result of another citizen, sent last) shows that the blocked result came before it
    and was not notified: pings go out in the order of the changes.
    """
    blocked_sample, marker_sample = unique("S"), unique("S")
    with as_user(server, "gp", purpose="SJ_READ") as gp:
        watched = subscribe(gp, websocket_subscription(sample_criteria(blocked_sample)))
        marker = subscribe(gp, websocket_subscription(sample_criteria(marker_sample)))
    headers = {**bearer(server, "gp"), "X-Purpose-Of-Use": "SJ_READ"}
    block: dict[str, object] = {}

    async def run() -> list[str]:
        async with connect(socket_url(server), open_timeout=20, additional_headers=headers) as socket:
            for id_ in (watched, marker):
                await socket.send(f"bind {id_}")
                assert await asyncio.wait_for(socket.recv(), 20) == f"bound {id_}"
            first = message(blocked_sample, unique("P"), CITIZEN_CPR, status="P", sent="20260309080000")
            assert msa((await asyncio.to_thread(send, server, first))[0])[0] == "AA"
            frames = [str(await asyncio.wait_for(socket.recv(), 20))]
            block.update(await asyncio.to_thread(block_gp, client))
            final = message(blocked_sample, unique("F"), CITIZEN_CPR, sent="20260310120000")
            other = message(marker_sample, unique("M"), synthetic_cpr())
            acks = await asyncio.to_thread(send, server, final, other)
            assert [msa(ack)[0] for ack in acks] == ["AA", "AA"]
            frames.append(str(await asyncio.wait_for(socket.recv(), 20)))
            return frames

    try:
        assert asyncio.run(run()) == [f"ping {watched}", f"ping {marker}"]
    finally:
        if block:
            withdrawn = {**block, "status": "inactive"}
            put = client.put(
                f"/Consent/{block['id']}", json=withdrawn, headers={"Content-Type": "application/fhir+json"}
            )
            assert put.status_code == 200, put.text


def block_gp(client: httpx.Client) -> dict[str, object]:
    """The citizen's block against the GP (authorisation GP7K2), made by an administrator."""
    found = client.get("/Patient", params={"identifier": f"{CPR_SYSTEM}|{CITIZEN_CPR}"}).json()
    patient = found["entry"][0]["resource"]["id"]
    made = client.post(
        "/Consent", json=_block_consent(patient, "GP7K2"), headers={"Content-Type": "application/fhir+json"}
    )
    assert made.status_code == 201, made.text
    body: dict[str, object] = made.json()
    return body


def test_a_withdrawn_trust_agreement_stops_the_pings(server: LiveServer, client: httpx.Client) -> None:
    """A helper under a trust agreement hears of new data; once the agreement is withdrawn, no more.

    The administrator's ``marker`` socket hears of a change made after the one the helper must not
    hear of; pings go out in the order of the changes.
    """
    path = f"/$security-registers/trust-agreements/kih-{uuid.uuid4().hex[:8]}"
    agreement = {
        "organisation_sor": "12519999999100",  # Hjemmeplejen Nord, where the demo helper works
        "system_name": "DemoCare",
        "purpose": "KIH_READ",
        "municipality_code": "0461",
        "last_review": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
    }
    watched_tag, marker_tag = unique("W"), unique("M")
    try:
        assert client.put(path, json=agreement).status_code == 201
        with as_user(server, "sosu", purpose="KIH_READ") as sosu:
            watched = subscribe(sosu, websocket_subscription(f"Observation?identifier={TAGS}|{watched_tag}"))
        marker = subscribe(client, websocket_subscription(f"Observation?identifier={TAGS}|{marker_tag}"))

        async def run() -> None:
            helper = {**bearer(server, "sosu", purpose="KIH_READ"), "X-Purpose-Of-Use": "KIH_READ"}
            async with (
                connect(socket_url(server), open_timeout=20, additional_headers=helper) as mine,
                connect(socket_url(server), open_timeout=20, additional_headers=bearer(server, "admin")) as admin,
            ):
                for socket, id_ in ((mine, watched), (admin, marker)):
                    await socket.send(f"bind {id_}")
                    assert await asyncio.wait_for(socket.recv(), 20) == f"bound {id_}"
                await asyncio.to_thread(observation, client, watched_tag)
                assert await asyncio.wait_for(mine.recv(), 20) == f"ping {watched}"
                withdrawn = {**agreement, "withdrawn_at": datetime.now(UTC).isoformat()}
                assert (await asyncio.to_thread(client.put, path, json=withdrawn)).status_code == 200
                await asyncio.to_thread(observation, client, watched_tag)
                await asyncio.to_thread(observation, client, marker_tag)
                assert await asyncio.wait_for(admin.recv(), 20) == f"ping {marker}"
                with pytest.raises(TimeoutError):  # anything for the helper was sent before the marker's ping
                    await asyncio.wait_for(mine.recv(), 1)

        asyncio.run(run())
    finally:
        assert client.delete(path).status_code == 204


TAGS = "urn:bindeled:test:tag"


def observation(client: httpx.Client, tag: str) -> None:
    """A final Observation with no subject (nobody's data: only the purpose and the agreement decide)."""
    body = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Blood pressure"},
        "identifier": [{"system": TAGS, "value": tag}],
    }
    made = client.post("/Observation", json=body, headers={"Content-Type": "application/fhir+json"})
    assert made.status_code == 201, made.text


def test_a_binding_ends_when_its_token_expires(server: LiveServer, client: httpx.Client) -> None:
    tag = unique("T")
    id_ = subscribe(client, websocket_subscription(f"Observation?identifier={TAGS}|{tag}"))
    issuer = LocalIssuer(Path(server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    leeway, lifetime = timedelta(seconds=60), timedelta(minutes=5)
    minted = datetime.now(UTC) - lifetime - leeway + timedelta(seconds=6)  # valid (with the leeway) for 6 s more
    token = issuer.mint(demo_user("admin"), now=minted, lifetime=lifetime)

    async def run() -> str:
        async with connect(socket_url(server), open_timeout=20) as socket:
            await socket.send(f"bind {id_} {token}")
            assert await asyncio.wait_for(socket.recv(), 20) == f"bound {id_}"
            await asyncio.sleep(7)  # the token runs out
            await asyncio.to_thread(observation, client, tag)
            return str(await asyncio.wait_for(socket.recv(), 20))

    assert asyncio.run(run()) == f"error {id_}"
