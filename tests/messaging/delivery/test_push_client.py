"""The push client (aiohttp) against real sockets: keep-alive, every end of an answer, stale connections, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bindeled.messaging.delivery.push_client import PushClient, PushConnectionError, PushTimeout

pytestmark = pytest.mark.anyio

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]
"""Writes the answer to one request (its body given); returns whether to keep the connection open."""


class Receiver:
    """A TCP server that reads HTTP/1.1 requests with Content-Length and answers as the test says."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.bodies: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/medcom?x=1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"POST /medcom?x=1 HTTP/1.1\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                body = await reader.readexactly(length)
                self.bodies.append(body)
                if not await self.answer(body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Answer], Awaitable[Receiver]]]:
    started: list[Receiver] = []

    async def start(answer: Answer) -> Receiver:
        receiver = Receiver(answer)
        receiver.server = await asyncio.start_server(receiver._handle, "127.0.0.1", 0)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        assert receiver.server is not None
        receiver.server.close()


def fixed(raw: bytes, *, keep: bool = True) -> Answer:
    async def answer(body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep

    return answer


HEADERS = {"Content-Type": "application/fhir+json"}


async def test_pushes_share_one_kept_alive_connection(serve: Callable[[Answer], Awaitable[Receiver]]) -> None:
    receiver = await serve(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    client = PushClient(timeout=5)
    assert [await client.post(receiver.url, f"letter {n}".encode(), HEADERS) for n in range(3)] == [200] * 3
    assert receiver.bodies == [b"letter 0", b"letter 1", b"letter 2"]
    assert receiver.connections == 1
    await client.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ],
)
async def test_answers_of_every_shape_are_read_to_their_end(
    serve: Callable[[Answer], Awaitable[Receiver]], raw: bytes
) -> None:
    receiver = await serve(fixed(raw))
    client = PushClient(timeout=5)
    first = await client.post(receiver.url, b"{}", HEADERS)
    assert first in (201, 204) and await client.post(receiver.url, b"{}", HEADERS) == first
    assert receiver.connections == 1  # the answer was read exactly to its end, so the connection stayed usable
    await client.close()


async def test_an_answer_that_closes_the_connection_is_not_reused(
    serve: Callable[[Answer], Awaitable[Receiver]],
) -> None:
    receiver = await serve(fixed(b"HTTP/1.0 503 Busy\r\n\r\nbusy until the close", keep=False))
    client = PushClient(timeout=5)
    assert await client.post(receiver.url, b"{}", HEADERS) == 503
    assert await client.post(receiver.url, b"{}", HEADERS) == 503
    assert receiver.connections == 2
    await client.close()


async def test_a_connection_closed_while_idle_is_replaced_and_the_letter_sent_once_more(
    serve: Callable[[Answer], Awaitable[Receiver]],
) -> None:
    async def once_per_connection(body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        return False  # closed after the answer without saying so: the client finds out on reuse

    receiver = await serve(once_per_connection)
    client = PushClient(timeout=5)
    assert await client.post(receiver.url, b"a", HEADERS) == 200
    await asyncio.sleep(0.05)
    assert await client.post(receiver.url, b"b", HEADERS) == 200
    assert receiver.bodies == [b"a", b"b"] and receiver.connections == 2
    await client.close()


async def test_a_silent_receiver_times_out_and_a_closed_port_fails_to_connect(
    serve: Callable[[Answer], Awaitable[Receiver]],
) -> None:
    async def silent(body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(10)
        return False

    receiver = await serve(silent)
    client = PushClient(timeout=0.2)
    with pytest.raises(PushTimeout):
        await client.post(receiver.url, b"{}", HEADERS)
    assert receiver.server is not None
    url = receiver.url
    receiver.server.close()
    await receiver.server.wait_closed()
    with pytest.raises(PushConnectionError):
        await client.post(url, b"{}", HEADERS)
    await client.close()


async def test_what_is_not_http_is_a_connection_error(serve: Callable[[Answer], Awaitable[Receiver]]) -> None:
    receiver = await serve(fixed(b"SSH-2.0-OpenSSH\r\n\r\n"))
    client = PushClient(timeout=5)
    with pytest.raises(PushConnectionError):
        await client.post(receiver.url, b"{}", HEADERS)
    with pytest.raises(PushConnectionError):
        await client.post("ftp://127.0.0.1/x", b"{}", HEADERS)
    await client.close()
