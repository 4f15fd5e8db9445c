"""MLLP (minimal lower layer protocol): framing, an asyncio TCP server and a client.

A frame is ``0x0B payload 0x1C 0x0D``. The decoder is incremental, so frames split across TCP segments,
several frames in one read, and bytes between frames (discarded and counted) are all fine. A frame
larger than ``max_frame`` is not buffered: its first bytes are kept so the handler can still address a
rejection, the rest is skipped up to the end block. A start block inside an unfinished frame means the
sender gave up on that frame; the partial frame is dropped and the new one read.

The server answers every frame in order on its connection (HL7 original mode: one message in flight
per connection) and serves many connections at once. The handler is a :class:`FrameHandler`; if it
raises, the connection is closed without an answer so the sender retries rather than believing it was
accepted. Nothing from a payload is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "END_BLOCK",
    "START_BLOCK",
    "FrameDecoder",
    "FrameHandler",
    "MllpClient",
    "MllpServer",
    "Oversized",
    "frame",
]

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
PREFIX_KEPT = 2048
"""Bytes of an oversized frame kept for addressing the rejection."""

log = logging.getLogger(__name__)


def frame(payload: bytes) -> bytes:
    """``payload`` wrapped in MLLP start and end blocks."""
    return START_BLOCK + payload + END_BLOCK


@dataclass(frozen=True, slots=True)
class Oversized:
    """A frame that exceeded the size limit: its first bytes and its full size."""

    prefix: bytes
    size: int


class FrameDecoder:
    """Incremental MLLP decoder: ``feed`` bytes, get the complete frames (or :class:`Oversized`) back."""

    def __init__(self, max_frame: int = 1 << 20) -> None:
        self.max_frame = max_frame
        self.discarded = 0
        """Bytes seen outside frames (garbage) or in abandoned frames."""
        self._buffer = bytearray()
        self._inside = False
        self._pending_fs = False
        self._oversized: Oversized | None = None

    def feed(self, data: bytes) -> list[bytes | Oversized]:
        out: list[bytes | Oversized] = []
        view = memoryview(data)
        while view:
            view = self._step(view, out)
        return out

    def _step(self, view: memoryview, out: list[bytes | Oversized]) -> memoryview:
        data = view.tobytes()
        if self._inside:
            return self._inside_frame(view, data, out)
        start = data.find(START_BLOCK)
        self.discarded += len(data) if start < 0 else start
        if start < 0:
            return memoryview(b"")
        self._inside = True
        return view[start + 1 :]

    def _inside_frame(self, view: memoryview, data: bytes, out: list[bytes | Oversized]) -> memoryview:
        if self._pending_fs:  # the previous read ended on 0x1C: the end block may straddle the reads
            self._pending_fs = False
            if data.startswith(b"\r"):
                out.append(self._finish())
                return view[1:]
            self._append(b"\x1c")
        end, restart = data.find(END_BLOCK), data.find(START_BLOCK)
        if restart >= 0 and (end < 0 or restart < end):
            self.discarded += self._size() + restart
            self._clear()
            return view[restart + 1 :]
        if end >= 0:
            self._append(data[:end])
            out.append(self._finish())
            return view[end + len(END_BLOCK) :]
        self._pending_fs = data.endswith(b"\x1c")
        self._append(data[:-1] if self._pending_fs else data)
        return memoryview(b"")

    def _size(self) -> int:
        return self._oversized.size if self._oversized is not None else len(self._buffer)

    def _append(self, data: bytes) -> None:
        if self._oversized is not None:
            self._oversized = Oversized(self._oversized.prefix, self._oversized.size + len(data))
            return
        self._buffer += data
        if len(self._buffer) > self.max_frame:
            self._oversized = Oversized(bytes(self._buffer[:PREFIX_KEPT]), len(self._buffer))
            self._buffer = bytearray()

    def _clear(self) -> None:
        self._buffer, self._oversized, self._pending_fs = bytearray(), None, False

    def _finish(self) -> bytes | Oversized:
        result: bytes | Oversized = self._oversized or bytes(self._buffer)
        self._inside = False
        self._clear()
        return result


class FrameHandler(Protocol):
    """What the server calls for each frame; both return the payload of the answer frame."""

    async def message(self, payload: bytes) -> bytes:
        """Answer one complete message (normally an HL7 ACK)."""
        ...

    async def oversized(self, frame: Oversized) -> bytes:
        """Answer a frame that was too large to accept."""
        ...


class MllpServer:
    """An asyncio MLLP listener; use as ``async with MllpServer(handler) as server: ... server.port``."""

    def __init__(
        self,
        handler: FrameHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = 1 << 20,
        idle_timeout: float | None = 600.0,
    ) -> None:
        self.handler = handler
        self.host, self._port = host, port
        self.max_frame = max_frame
        self.idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._port)
        log.info("MLLP listening", extra={"port": self.port})

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> MllpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._converse(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            log.info("MLLP connection ended", extra={"reason": "network"})
        except Exception:
            log.exception("MLLP handler failed; closing the connection unanswered")
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder(self.max_frame)
        while True:
            data = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
            if not data:
                return
            for item in decoder.feed(data):
                if isinstance(item, Oversized):
                    answer = await self.handler.oversized(item)
                else:
                    answer = await self.handler.message(item)
                writer.write(frame(answer))
                await writer.drain()


class MllpClient:
    """A minimal MLLP client: send a message, wait for the answer frame (each step bounded by ``timeout``)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        timeout: float = 10.0,
        max_frame: int = 1 << 20,
    ) -> None:
        self._reader, self._writer = reader, writer
        self.timeout = timeout
        self._decoder = FrameDecoder(max_frame)
        self._pending: list[bytes] = []

    @classmethod
    async def connect(cls, host: str, port: int, *, wait: float = 10.0) -> MllpClient:
        async with asyncio.timeout(wait):
            reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, timeout=wait)

    async def send(self, payload: bytes) -> bytes:
        """Send one framed message and return the payload of the answer."""
        await self.write(frame(payload))
        return await self.receive()

    async def write(self, data: bytes) -> None:
        """Write raw bytes (no framing): for partial frames and garbage in tests and tools."""
        self._writer.write(data)
        await self._writer.drain()

    async def receive(self) -> bytes:
        """The next answer frame."""
        async with asyncio.timeout(self.timeout):
            while not self._pending:
                data = await self._reader.read(65536)
                if not data:
                    raise ConnectionError("the server closed the connection")
                self._pending += [item for item in self._decoder.feed(data) if isinstance(item, bytes)]
        return self._pending.pop(0)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    async def __aenter__(self) -> MllpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
