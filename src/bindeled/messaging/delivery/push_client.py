"""Pushing letters over HTTP: one POST per letter on connections kept alive per receiver (aiohttp).

The hub pushes many small Bundles to a handful of receivers. A general-purpose client built for
convenience (httpx) spent ≈ 10 ms of CPU per push on this machine; aiohttp's connection pool and C
HTTP parser do the same POST for a fraction of that. This module only narrows aiohttp to what a push
needs — the answer's status code, its body read to the end so the connection can carry the next
letter — and turns aiohttp's many error classes into the two the delivery worker acts on.

A kept-alive connection the receiver closed meanwhile can fail on reuse before any answer arrived;
the letter is then sent once more on a fresh connection (delivery is at least once, receivers
recognise a repeated letter by its id).
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

__all__ = ["PushClient", "PushConnectionError", "PushTimeout"]


class PushConnectionError(OSError):
    """The receiver could not be reached or broke the connection (or answered something not HTTP/1.x)."""


class PushTimeout(TimeoutError):
    """The receiver did not answer in time."""


class PushClient:
    """POSTs bodies to receivers over kept-alive connections (one event loop; the session opens lazily)."""

    def __init__(self, *, timeout: float, per_origin: int = 16, user_agent: str = "bindeled-hub") -> None:
        self.timeout = timeout
        self.per_origin = per_origin
        self.user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=self.per_origin),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": self.user_agent},
                auto_decompress=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the pool's connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body``; the answer's status code. Raises PushTimeout or PushConnectionError."""
        session = self._open()
        for attempt in (1, 2):
            try:
                async with session.post(url, data=body, headers=dict(headers)) as answer:
                    await answer.read()
                    return answer.status
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # A stale kept-alive connection: try once more on a fresh one; a refused connect is final.
                if attempt == 2 or isinstance(exc, aiohttp.ClientConnectorError):
                    raise PushConnectionError(f"connection failed ({type(exc).__name__})") from exc
            except TimeoutError as exc:
                raise PushTimeout("the receiver did not answer in time") from exc
            except (aiohttp.ClientError, ValueError) as exc:
                raise PushConnectionError(f"not a usable HTTP answer ({type(exc).__name__})") from exc
        raise AssertionError("unreachable")
