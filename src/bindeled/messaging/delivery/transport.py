"""Handing one letter to its receiver: pushed by HTTP POST, or placed in its mailbox.

The receiver's endpoint register entry (:func:`~bindeled.messaging.hub.endpoints.find_endpoint`)
says how. A push succeeds on any 2xx answer. Errors are sorted for the retry policy: a timeout, a
refused or broken connection, 408, 429 and 5xx are *transient* (tried again with back-off); any other
4xx, a redirect, or a letter whose receiver is no longer registered is *fatal* (never tried again
automatically: it goes to the dead-letter list for an operator). An Acknowledgement for a sender
without a registered endpoint goes to that sender's mailbox. Register entries are cached for a few
seconds per receiver, so a change to the register reaches delivery within ``endpoint_ttl``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from ...store.base import Store
from ..hub.endpoints import ReceiverEndpoint, find_endpoint
from .push_client import PushClient, PushConnectionError, PushTimeout
from .queue import Letter

__all__ = ["Outcome", "Transport"]

_TRANSIENT_STATUSES = frozenset({408, 425, 429})
_HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one delivery attempt."""

    result: Literal["delivered", "transient", "fatal"]
    channel: str = ""
    """``push`` or ``mailbox`` when delivered."""
    error: str = ""
    """Why it failed: status codes and error classes only, never the letter's content."""


class Transport:
    """Delivers letters; one per hub process, sharing one HTTP connection pool."""

    def __init__(self, store: Store, *, timeout: float, connections: int = 100, endpoint_ttl: float = 5.0) -> None:
        self.store = store
        # Up to ``connections`` pushes at once per receiver, each connection kept alive for the next letter.
        self.client = PushClient(timeout=timeout, per_origin=connections)
        self.endpoint_ttl = endpoint_ttl
        self._endpoints: dict[str, tuple[float, ReceiverEndpoint | None]] = {}

    async def endpoint(self, gln: str) -> ReceiverEndpoint | None:
        """The receiver's register entry, read at most every ``endpoint_ttl`` seconds per receiver."""
        now = time.monotonic()
        cached = self._endpoints.get(gln)
        if cached is not None and now - cached[0] < self.endpoint_ttl:
            return cached[1]
        found = await find_endpoint(self.store, gln)
        self._endpoints[gln] = (now, found)
        return found

    async def close(self) -> None:
        await self.client.close()

    async def deliver(self, item: Letter) -> Outcome:
        endpoint = await self.endpoint(item.receiver_gln)
        if endpoint is None:
            if item.is_acknowledgement:
                return Outcome("delivered", "mailbox")
            return Outcome("fatal", error=f"receiver GLN {item.receiver_gln} has no active endpoint")
        if endpoint.mode == "mailbox":
            return Outcome("delivered", "mailbox")
        return await self.push(endpoint.url, item.payload)

    async def push(self, url: str, payload: bytes) -> Outcome:
        """POST the Bundle, unchanged, to the receiver's endpoint."""
        try:
            status = await self.client.post(url, payload, _HEADERS)
        except PushTimeout as exc:
            return Outcome("transient", error=f"timeout ({type(exc).__name__})")
        except PushConnectionError as exc:
            return Outcome("transient", error=f"connection failed ({exc})")
        if 200 <= status < 300:
            return Outcome("delivered", "push")
        if status >= 500 or status in _TRANSIENT_STATUSES:
            return Outcome("transient", error=f"receiver answered HTTP {status}")
        return Outcome("fatal", error=f"receiver answered HTTP {status}")
