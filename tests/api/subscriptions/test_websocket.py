"""The R4 websocket channel on a live server (both backends): bind, bound, ping — with a real websocket client."""

from __future__ import annotations

import asyncio

import httpx
from websockets.asyncio.client import connect

from tests.api.conftest import LiveServer
from tests.api.lab.test_mllp_server import message, msa, send, synthetic_cpr, unique
from tests.api.subscriptions.test_rest_hook import as_user, sample_criteria, subscribe

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


async def bind_and_wait(server: LiveServer, id_: str, *payloads: bytes) -> list[str]:
    """Bind a socket to ``id_``, send ``payloads`` over MLLP, and return the frames up to the first ping."""
    async with connect(socket_url(server), open_timeout=20) as socket:
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
        async with connect(socket_url(server), open_timeout=20) as socket:
            for id_ in (everything, last):
                await socket.send(f"bind {id_}")
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
        async with connect(socket_url(server), open_timeout=20) as socket:
            await socket.send(f"bind {id_}")
            return str(await asyncio.wait_for(socket.recv(), 20))

    hook = {
        **websocket_subscription("DiagnosticReport?status=final"),
        "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/x"},
    }
    created = client.post("/Subscription", json=hook, headers={"Content-Type": "application/fhir+json"}).json()
    assert asyncio.run(bind("no-such-subscription")) == "error no-such-subscription"
    assert asyncio.run(bind(created["id"])) == f"error {created['id']}"
