"""Subscriptions through plain FHIR REST, with their owner recorded: ``/fhir/Subscription[/{id}]``.

These routes sit in front of the generic REST handlers for the Subscription type. Any authenticated
user may keep Subscriptions of their own (a citizen's app, a clinician's system): creating one gives no
access to anything, because every notification is checked against the owner's own read rights
(:mod:`.matching`). What a caller may do with a Subscription is therefore decided here, by ownership:

* create (POST) and update (PUT) store the Subscription as sent (any valid R4 Subscription) and record
  the caller as the owner, in the same transaction; the worker then takes it on: ``requested`` becomes
  ``active``, or ``error`` with the reason when the server cannot honour it (another channel, criteria
  that are not a valid search, a bad endpoint or header);
* read, update and delete by id are for the owner and administrators (another user's Subscription reads
  as not found); a search returns only the caller's own Subscriptions (administrators: all). Every
  other path (vread, history, system search, includes, batches) is held to the same rule by the
  security guard (:func:`~bindeled.security.guard.register_owned_type`, see the package);
* ``channel.header`` lines are kept beside the Subscription, never in its stored versions
  (:mod:`.headers`): only the owner's read (and the create or update response) shows them.

A Subscription written some other way (a transaction Bundle) has no recorded owner, is put in ``error``
by the worker rather than ever notifying anyone, and keeps no header secret
(:func:`~.headers.redact_other_writes`); only an administrator can see it or change it that way.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequest, MethodNotAllowed, NotFound
from ...fhir.jsonio import Resource
from ...security.guard import current_principal
from ...security.principal import Principal
from ...store.base import StoredResource, Transaction, run_transaction
from ...store.guard import as_system, current_guard
from ...store.repository import WriteResult
from ..bundling import searchset_bundle
from ..negotiation import http_date
from ..rendering import fhir_response, read_resource
from ..services import Services, base_url, services
from .headers import forget_lines, lines_of, redacted, restored, save_lines, with_previous
from .owners import is_owner, owner_of, record_owner, same_owner

__all__ = [
    "create_subscription",
    "delete_subscription",
    "read_subscription",
    "refuse_patch",
    "search_subscriptions",
    "subscription_type_history",
    "update_subscription",
]


async def _body(request: Request, svc: Services) -> Resource:
    body = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
    if body.get("resourceType") != "Subscription":
        raise InvalidRequest("The body must be a Subscription", location=("resourceType",))
    return body


def _response(
    request: Request, svc: Services, stored: StoredResource, status: int, lines: list[str] | None = None
) -> Response:
    """The stored version, with its header lines put back when ``lines`` (the owner's) are given."""
    headers = {
        "ETag": stored.etag,
        "Last-Modified": http_date(stored.last_updated),
        "Location": f"{base_url(request)}/Subscription/{stored.id}/_history/{stored.version_id}",
    }
    body = restored(stored.resource(), lines) if lines else stored.body
    return fhir_response(request, body, svc.definitions, status=status, headers=headers)


async def _write(svc: Services, principal: Principal | None, write: Write) -> WriteResult:
    """Run ``write`` as the system, record the owner and the request's audit record in one transaction."""
    guard = current_guard()

    async def attempt(tx: Transaction) -> WriteResult:
        with as_system():
            result = await write(tx)
        await save_lines(tx, result.stored.id, write.lines)
        if principal is not None:
            await record_owner(tx, result.stored.id, principal)
        await guard.finish(201 if result.created else 200, tx)
        return result

    return await run_transaction(svc.store, attempt)


class Write:
    """A write of one Subscription inside a transaction (a small callable keeps mypy and closures simple)."""

    def __init__(self, svc: Services, body: Resource, id: str | None, *, replaces: bool = False) -> None:
        self.svc, self.id, self.replaces = svc, id, replaces
        self.body, self.lines = redacted(body)

    async def __call__(self, tx: Transaction) -> WriteResult:
        if self.id is not None and self.replaces:  # a redacted line sent back keeps its value
            self.lines = with_previous(self.lines, await lines_of(tx, self.id) or [])
        if self.id is None:
            return await self.svc.repo.create_in(tx, "Subscription", self.body)
        return await self.svc.repo.update_in(tx, "Subscription", self.id, self.body)


async def _owned(svc: Services, id: str) -> Principal | None:
    """Refuse (as not found) a Subscription the caller does not own; returns the recorded owner."""
    principal = current_principal()
    owner = await owner_of(svc.store, id)
    if principal is not None and not principal.admin and (owner is None or not same_owner(owner, principal)):
        raise NotFound(f"Subscription/{id} is not known")
    return owner


async def create_subscription(request: Request) -> Response:
    svc = services(request)
    body = await _body(request, svc)
    write = Write(svc, body, None)
    result = await _write(svc, current_principal(), write)
    return _response(request, svc, result.stored, 201, write.lines)


async def update_subscription(request: Request) -> Response:
    svc = services(request)
    id_ = request.path_params["id"]
    exists = await svc.store.read("Subscription", id_)
    owner = await _owned(svc, id_) if exists is not None and not exists.deleted else None
    body = await _body(request, svc)
    principal = current_principal()
    keep_owner = owner is not None and principal is not None and not is_owner(owner, principal)
    write = Write(svc, body, id_, replaces=owner is not None)
    result = await _write(svc, None if keep_owner else principal, write)
    return _response(request, svc, result.stored, 201 if result.created else 200, None if keep_owner else write.lines)


async def read_subscription(request: Request) -> Response:
    svc = services(request)
    id_ = request.path_params["id"]
    owner = await _owned(svc, id_)
    with as_system():
        stored = await svc.repo.read("Subscription", id_)
    principal = current_principal()
    mine = principal is None or is_owner(owner, principal)
    return _response(request, svc, stored, 200, await lines_of(svc.store, id_) if mine else None)


async def delete_subscription(request: Request) -> Response:
    svc = services(request)
    id_ = request.path_params["id"]
    await _owned(svc, id_)
    with as_system():
        await svc.repo.delete("Subscription", id_)

    async def forget(tx: Transaction) -> None:
        await forget_lines(tx, id_)

    await run_transaction(svc.store, forget)
    return Response(status_code=204)


async def subscription_type_history(request: Request) -> Response:
    """``GET /Subscription/_history`` (which ``/Subscription/{id}`` would otherwise take for an id).

    The generic history, under the guard: it shows only the caller's own Subscriptions.
    """
    from ..rest import history_resource  # the REST module lists the feature routes: import it late

    svc = services(request)
    bundle = await history_resource(svc, base_url(request), request, "Subscription", None)
    return fhir_response(request, bundle, svc.definitions)


async def refuse_patch(request: Request) -> Response:
    raise MethodNotAllowed("A Subscription is changed with PUT (which records its owner), not PATCH")


async def search_subscriptions(request: Request) -> Response:
    svc = services(request)
    principal = current_principal()
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_format", "_pretty")]
    with as_system():
        _, result = await svc.repo.search("Subscription", params, strict=True)
    mine = [item for item in result.resources if await _is_mine(svc, principal, item.id)]
    links = [{"relation": "self", "url": str(request.url)}]
    bundle = searchset_bundle(base_url(request), mine, [], None, links)
    return fhir_response(request, bundle, svc.definitions)


async def _is_mine(svc: Services, principal: Principal | None, id: str) -> bool:
    if principal is None or principal.admin:
        return True
    owner = await owner_of(svc.store, id)
    return owner is not None and same_owner(owner, principal)
