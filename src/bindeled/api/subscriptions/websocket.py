"""The R4 websocket channel: ``ws://…/fhir/websocket``, ``bind <id>`` → ``bound <id>``, then ``ping <id>``.

A client opens the socket and binds it to one or more of its websocket Subscriptions (``bind`` with
the Subscription's id); the server answers ``bound <id>``, or ``error <id>`` for an unknown id, a
Subscription on another channel, or one that is off or in error. Each notification is then a text
frame ``ping <id>``: it names the Subscription, never a resource, so a socket learns only that
something it may see has changed and reads it through the API (under the gate) itself.

Sockets live in the process that accepted them; every server process checks its own sockets
(:class:`WebsocketHub`), so with several processes each bound socket is pinged by its own process.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ...store.guard import as_system
from ..services import Services

__all__ = ["WebsocketHub", "hub_for", "subscription_websocket_route"]

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_HUBS: dict[int, tuple[Services, WebsocketHub]] = {}
"""One hub per process's services (keyed by identity: Services is neither hashable nor weak-referenceable)."""


class WebsocketHub:
    """The sockets of one process, by the Subscription ids they are bound to."""

    def __init__(self) -> None:
        self._bound: defaultdict[str, set[WebSocket]] = defaultdict(set)

    def bind(self, subscription_id: str, socket: WebSocket) -> None:
        self._bound[subscription_id].add(socket)

    def forget(self, socket: WebSocket) -> None:
        for sockets in self._bound.values():
            sockets.discard(socket)

    def bound(self, subscription_id: str) -> bool:
        return bool(self._bound.get(subscription_id))

    async def ping(self, subscription_id: str) -> int:
        """Send ``ping <id>`` to every socket bound to the Subscription; returns how many got it."""
        sent = 0
        for socket in list(self._bound.get(subscription_id, ())):
            try:
                await socket.send_text(f"ping {subscription_id}")
                sent += 1
            except (RuntimeError, OSError, WebSocketDisconnect):
                self.forget(socket)
        return sent


def hub_for(svc: Services) -> WebsocketHub:
    """The hub of this process's services (made on first use)."""
    found = _HUBS.get(id(svc))
    if found is None or found[0] is not svc:
        found = _HUBS[id(svc)] = (svc, WebsocketHub())
    return found[1]


def _is_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


async def _can_bind(svc: Services, subscription_id: str) -> bool:
    with as_system():
        stored = await svc.store.read("Subscription", subscription_id) if subscription_id else None
    if stored is None or stored.deleted:
        return False
    body = stored.resource()
    return (body.get("channel") or {}).get("type") == "websocket" and body.get("status") in ("requested", "active")


async def _endpoint(socket: WebSocket) -> None:
    svc: Services = socket.app.state.services
    hub = hub_for(svc)
    await socket.accept()
    try:
        while True:
            command, _, argument = (await socket.receive_text()).strip().partition(" ")
            argument = argument.strip()
            if command == "bind" and _is_id(argument) and await _can_bind(svc, argument):
                hub.bind(argument, socket)
                await socket.send_text(f"bound {argument}")
            else:
                await socket.send_text(f"error {argument[:64]}")
    except WebSocketDisconnect:
        pass
    finally:
        hub.forget(socket)
        with contextlib.suppress(RuntimeError):
            await socket.close()


def subscription_websocket_route() -> WebSocketRoute:
    """The websocket endpoint, mounted at ``/fhir/websocket``."""
    return WebSocketRoute("/fhir/websocket", _endpoint)
