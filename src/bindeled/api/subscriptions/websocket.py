"""The R4 websocket channel: ``ws://…/fhir/websocket``, ``bind <id>`` → ``bound <id>``, then ``ping <id>``.

A client opens the socket and binds it to one or more of its websocket Subscriptions; the server
answers ``bound <id>``, or ``error <id>`` for an unknown id, another user's Subscription, one on
another channel, one that is off, or one about data the caller may not read now. Each notification
is then a text frame ``ping <id>``: it names the Subscription, never a resource, so a socket learns
only that something it may see has changed and reads it through the API (under the gate) itself.

Binding is authenticated exactly like the REST API (the same gate, token verification and audit):

* a bearer token in the ``Authorization`` header of the upgrade request (with ``X-Purpose-Of-Use``
  and the other context headers), for clients that can set headers; an invalid one refuses the
  upgrade (HTTP 403);
* ``bind <id> <access-token>`` for browsers, which cannot set headers on a websocket. The token is
  sent inside the socket, never in the URL (URLs end up in logs).

A bind that cannot be authenticated is answered ``error <id> <code>`` (``missing_token``,
``invalid_token``, …). Only the owner (or an administrator) binds. Before each ping the binding is
checked again — the token still valid, the caller still allowed to read that type under the policy —
and the worker has checked that the owner may read the changed resource; a binding that fails is
ended with ``error <id>`` and gets no more pings.

Sockets live in the process that accepted them; every server process checks its own sockets
(:class:`WebsocketHub`), so with several processes each bound socket is pinged by its own process.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ...errors import BindeledError
from ...security.gate import Gate, Headers
from ...security.guard import RequestGuard
from ...security.principal import Principal, require_data_context
from ...store.guard import as_system
from ..services import Services
from .owners import owner_of, same_owner
from .spec import read_spec

__all__ = ["Recheck", "WebsocketHub", "hub_for", "subscription_websocket_route"]

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_HUBS: dict[int, tuple[Services, WebsocketHub]] = {}
"""One hub per process's services (keyed by identity: Services is neither hashable nor weak-referenceable)."""

Recheck = Callable[[], Awaitable[bool]]
"""Whether a binding may still be pinged (its token valid, its caller still allowed)."""


async def _always() -> bool:
    return True


class WebsocketHub:
    """The sockets of one process, by the Subscription ids they are bound to."""

    def __init__(self) -> None:
        self._bound: defaultdict[str, dict[WebSocket, Recheck]] = defaultdict(dict)

    def bind(self, subscription_id: str, socket: WebSocket, recheck: Recheck = _always) -> None:
        self._bound[subscription_id][socket] = recheck

    def forget(self, socket: WebSocket) -> None:
        for sockets in self._bound.values():
            sockets.pop(socket, None)

    def bound(self, subscription_id: str) -> bool:
        return bool(self._bound.get(subscription_id))

    async def ping(self, subscription_id: str) -> int:
        """Send ``ping <id>`` to every socket still allowed to hear it; returns how many got it."""
        sent = 0
        for socket, recheck in list(self._bound.get(subscription_id, {}).items()):
            allowed = await recheck()
            try:
                await socket.send_text(f"{'ping' if allowed else 'error'} {subscription_id}")
            except (RuntimeError, OSError, WebSocketDisconnect):
                self.forget(socket)
                continue
            if allowed:
                sent += 1
            else:
                self._bound[subscription_id].pop(socket, None)
        return sent


def hub_for(svc: Services) -> WebsocketHub:
    """The hub of this process's services (made on first use)."""
    found = _HUBS.get(id(svc))
    if found is None or found[0] is not svc:
        found = _HUBS[id(svc)] = (svc, WebsocketHub())
    return found[1]


def _is_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


def _authenticate(gate: Gate, headers: Headers) -> Principal:
    principal = gate.authenticate(headers)
    require_data_context(principal)
    return principal


async def _resource_type(svc: Services, subscription_id: str) -> str | None:
    """The type a bindable websocket Subscription is about (None: not one that can be bound)."""
    with as_system():
        stored = await svc.store.read("Subscription", subscription_id)
    if stored is None or stored.deleted:
        return None
    body = stored.resource()
    if (body.get("channel") or {}).get("type") != "websocket" or body.get("status") not in ("requested", "active"):
        return None
    try:
        return read_spec(body, svc.definitions).resource_type
    except BindeledError:
        return None


async def _may_read(svc: Services, gate: Gate, principal: Principal, resource_type: str, audit: bool) -> bool:
    """Whether ``principal`` may read ``resource_type`` under the policy now (audited when ``audit``)."""
    await svc.refresh_registers()
    guard = RequestGuard(gate.session(principal, f"websocket-{uuid.uuid4()}"), svc.store)
    try:
        await guard.allow("read", resource_type)
    except BindeledError as error:
        if audit:
            await guard.finish(error.status, error=error)
        return False
    if audit:
        await guard.finish(200)
    return True


class _Socket:
    """One accepted socket: how it authenticates and what it binds."""

    def __init__(self, svc: Services, socket: WebSocket, hub: WebsocketHub, headers: Headers | None) -> None:
        self.svc, self.socket, self.hub, self.headers = svc, socket, hub, headers

    async def bind(self, subscription_id: str, token: str) -> str:
        """The answer to ``bind <id> [<token>]``."""
        gate = self.svc.gate
        resource_type = await _resource_type(self.svc, subscription_id) if _is_id(subscription_id) else None
        if gate is None:  # security off (benchmark baselines): anyone binds
            if resource_type is None:
                return f"error {subscription_id[:64]}"
            self.hub.bind(subscription_id, self.socket)
            return f"bound {subscription_id}"
        headers = [("authorization", f"Bearer {token}")] if token else self.headers
        if headers is None:
            return f"error {subscription_id[:64]} missing_token"
        try:
            principal = _authenticate(gate, headers)
        except BindeledError as error:
            await gate.audit_unauthenticated(error, "read", None)
            return f"error {subscription_id[:64]} {error.details_code or error.code}"
        owner = await owner_of(self.svc.store, subscription_id) if resource_type else None
        if resource_type is None or owner is None or not same_owner(owner, principal):
            return f"error {subscription_id[:64]}"
        if not await _may_read(self.svc, gate, principal, resource_type, audit=True):
            return f"error {subscription_id}"
        self.hub.bind(subscription_id, self.socket, self._recheck(gate, headers, resource_type))
        return f"bound {subscription_id}"

    def _recheck(self, gate: Gate, headers: Headers, resource_type: str) -> Recheck:
        kept = list(headers.items()) if isinstance(headers, Mapping) else list(headers)

        async def recheck() -> bool:
            try:
                principal = _authenticate(gate, kept)
            except BindeledError:
                return False
            return await _may_read(self.svc, gate, principal, resource_type, audit=False)

        return recheck


async def _endpoint(socket: WebSocket) -> None:
    svc: Services = socket.app.state.services
    hub = hub_for(svc)
    headers: Headers | None = None
    if svc.gate is not None and "authorization" in socket.headers:
        headers = list(socket.headers.items())
        try:
            _authenticate(svc.gate, headers)
        except BindeledError as error:
            await svc.gate.audit_unauthenticated(error, "read", None)
            await socket.close(code=1008)  # before accept: the upgrade is refused (HTTP 403)
            return
    await socket.accept()
    client = _Socket(svc, socket, hub, headers)
    try:
        while True:
            command, _, rest = (await socket.receive_text()).strip().partition(" ")
            argument, _, token = rest.strip().partition(" ")
            if command == "bind":
                await socket.send_text(await client.bind(argument, token.strip()))
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
