"""The FHIR RESTful interactions: thin handlers that turn HTTP into repository calls and back."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import BindeledError, InvalidRequest, MethodNotAllowed, NotFound, PreconditionFailed
from ..fhir import jsonio
from ..fhir.jsonio import Resource
from ..fhir.outcome import success
from ..fhir.search.cursor import encode_cursor
from ..logs import request_id_var
from ..security.guard import RequestGuard
from ..security.principal import require_data_context
from ..store.base import HistoryQuery, StoredResource
from ..store.guard import as_system, use_guard
from ..store.repository import WriteResult
from .bundling import history_bundle, instant, page_links, searchset_bundle
from .negotiation import http_date, instant_param, parse_etag, parse_http_date, preferences
from .operations.minlog import is_citizen_request, minlog_search
from .rendering import fhir_response, read_body, read_resource, shape
from .services import Services, base_url, services
from .transaction import process_batch, process_transaction

__all__ = ["routes"]


def _version_headers(stored: StoredResource, base: str) -> dict[str, str]:
    return {
        "ETag": stored.etag,
        "Last-Modified": http_date(stored.last_updated),
        "Location": f"{base}/{stored.resource_type}/{stored.id}/_history/{stored.version_id}",
    }


def _write_response(request: Request, svc: Services, result: WriteResult) -> Response:
    stored = result.stored
    headers = _version_headers(stored, base_url(request))
    status = 201 if result.created else 200
    prefer = preferences(request).return_
    if prefer == "minimal":
        return fhir_response(request, None, svc.definitions, status=status, headers=headers)
    if prefer == "OperationOutcome":
        message = "Created" if result.created else ("Updated" if result.changed else "Matched an existing resource")
        return fhir_response(request, success(message), svc.definitions, status=status, headers=headers)
    return fhir_response(request, stored.body, svc.definitions, status=status, headers=headers)


def _params(request: Request) -> list[tuple[str, str]]:
    return _checked(parse_qsl(request.url.query, keep_blank_values=True))


def _checked(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Refuse control characters in parameters: no FHIR value contains them, and databases choke on NUL."""
    for name, value in params:
        if any(ord(ch) < 32 and ch not in "\t" for ch in name + value):
            raise InvalidRequest("Query parameters must not contain control characters", location=(name[:64],))
    return params


# -- instance level ------------------------------------------------------------------------------


async def read(request: Request) -> Response:
    svc = services(request)
    type_, id_ = request.path_params["type"], request.path_params["id"]
    stored = await svc.repo.read(type_, id_)
    none_match = request.headers.get("if-none-match")
    if none_match and none_match.strip() not in ("*",) and parse_etag(none_match, "If-None-Match") == stored.version_id:
        return Response(status_code=304, headers={"ETag": stored.etag})
    since = parse_http_date(request.headers.get("if-modified-since"))
    if since is not None and stored.last_updated.replace(microsecond=0) <= since:
        return Response(status_code=304, headers={"ETag": stored.etag})
    headers = {"ETag": stored.etag, "Last-Modified": http_date(stored.last_updated)}
    body: Resource | bytes = stored.body
    if "_summary" in request.query_params or "_elements" in request.query_params:
        body = shape(stored.resource(), request.query_params, svc.definitions)
    return fhir_response(request, body, svc.definitions, headers=headers)


async def vread(request: Request) -> Response:
    svc = services(request)
    p = request.path_params
    stored = await svc.repo.vread(p["type"], p["id"], p["vid"])
    headers = {"ETag": stored.etag, "Last-Modified": http_date(stored.last_updated)}
    return fhir_response(request, stored.body, svc.definitions, headers=headers)


async def update(request: Request) -> Response:
    svc = services(request)
    resource = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
    if_match = parse_etag(request.headers.get("if-match"))
    result = await svc.repo.update(request.path_params["type"], request.path_params["id"], resource, if_match=if_match)
    return _write_response(request, svc, result)


async def delete(request: Request) -> Response:
    svc = services(request)
    if_match = parse_etag(request.headers.get("if-match"))
    await svc.repo.delete(request.path_params["type"], request.path_params["id"], if_match=if_match)
    if preferences(request).return_ == "OperationOutcome":
        return fhir_response(request, success("Deleted"), svc.definitions)
    return Response(status_code=204)


async def patch(request: Request) -> Response:
    svc = services(request)
    document, kind = await _patch_document(request, svc)
    if_match = parse_etag(request.headers.get("if-match"))
    result = await svc.repo.patch(
        request.path_params["type"], request.path_params["id"], document, kind=kind, if_match=if_match
    )
    return _write_response(request, svc, result)


async def _patch_document(request: Request, svc: Services) -> tuple[Any, str]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/json-patch+json":
        return jsonio.decode_any(await read_body(request, svc.settings.max_body_bytes)), "json"
    return await read_resource(request, svc.settings.max_body_bytes, svc.definitions), "fhirpath"


async def instance(request: Request) -> Response:
    method = request.method
    if method in ("GET", "HEAD"):
        return await read(request)
    if method == "PUT":
        return await update(request)
    if method == "DELETE":
        return await delete(request)
    if method == "PATCH":
        return await patch(request)
    raise MethodNotAllowed(f"{method} is not allowed on a resource instance")


# -- type level ----------------------------------------------------------------------------------


async def type_level(request: Request) -> Response:
    svc = services(request)
    type_ = request.path_params["type"]
    svc.repo.check_type(type_)
    method, criteria = request.method, request.url.query
    if method == "POST":
        resource = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
        result = await svc.repo.create(type_, resource, if_none_exist=request.headers.get("if-none-exist"))
        return _write_response(request, svc, result)
    if method in ("GET", "HEAD"):
        if type_ == "AuditEvent" and is_citizen_request():
            return await minlog_search(request)
        return await _search(request, type_, _params(request))
    if method == "PUT":
        if not criteria:
            raise MethodNotAllowed("PUT on a resource type needs search criteria (conditional update)")
        resource = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
        if_match = parse_etag(request.headers.get("if-match"))
        return _write_response(
            request, svc, await svc.repo.conditional_update(type_, criteria, resource, if_match=if_match)
        )
    if method == "DELETE":
        if not criteria:
            raise MethodNotAllowed("DELETE on a resource type needs search criteria (conditional delete)")
        count = await svc.repo.conditional_delete(type_, criteria)
        if preferences(request).return_ == "OperationOutcome":
            return fhir_response(request, success(f"Deleted {count} resource(s)"), svc.definitions)
        return Response(status_code=204)
    if method == "PATCH":
        if not criteria:
            raise MethodNotAllowed("PATCH on a resource type needs search criteria (conditional patch)")
        async with svc.repo.store.transaction() as tx:
            matches = await svc.repo.matches(tx, type_, criteria)
        if len(matches) != 1:
            raise PreconditionFailed(f"The conditional patch criteria match {len(matches)} resources")
        document, kind = await _patch_document(request, svc)
        result = await svc.repo.patch(
            type_, matches[0].id, document, kind=kind, if_match=parse_etag(request.headers.get("if-match"))
        )
        return _write_response(request, svc, result)
    raise MethodNotAllowed(f"{method} is not allowed on a resource type")


async def search_post(request: Request) -> Response:
    svc = services(request)
    type_ = request.path_params.get("type")
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in ("application/x-www-form-urlencoded", ""):
        raise InvalidRequest("POST _search takes an application/x-www-form-urlencoded body")
    body = await read_body(request, svc.settings.max_body_bytes)
    try:
        form = _checked(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise InvalidRequest("The search form is not UTF-8") from None
    return await _search(request, type_, [*_params(request), *form])


async def _search(
    request: Request, type_: str | None, params: list[tuple[str, str]], compartment: tuple[str, str] | None = None
) -> Response:
    svc = services(request)
    bundle = await search_bundle(
        svc, base_url(request), type_, params, strict=preferences(request).strict, compartment=compartment
    )
    return fhir_response(request, bundle, svc.definitions)


async def compartment_search(request: Request) -> Response:
    """``Patient/123/Observation``: a search limited to one compartment."""
    p = request.path_params
    return await _search(request, p["ctype"], _params(request), compartment=(p["type"], p["id"]))


async def everything_operation(request: Request) -> Response:
    """``Patient/123/$everything`` (also for the other compartment owners)."""
    svc = services(request)
    p = request.path_params
    wanted = request.query_params.get("_type")
    types = tuple(t.strip() for t in wanted.split(",") if t.strip()) if wanted else None
    found = await svc.repo.everything(p["type"], p["id"], types)
    base = base_url(request)
    links = [{"relation": "self", "url": str(request.url)}]
    bundle = searchset_bundle(base, found, [], len(found), links)
    return fhir_response(request, bundle, svc.definitions)


async def search_bundle(
    svc: Services,
    base: str,
    type_: str | None,
    params: list[tuple[str, str]],
    *,
    strict: bool,
    compartment: tuple[str, str] | None = None,
) -> Resource:
    params = [(k, v) for k, v in params if k not in ("_format", "_pretty")]
    search_request, result = await svc.repo.search(type_, params, strict=strict, compartment=compartment)
    summary = dict(params).get("_summary")
    shaped_params = dict(params)
    matches: list[Resource | StoredResource] = list(result.resources)
    if summary or "_elements" in shaped_params:
        matches = [shape(m.resource(), shaped_params, svc.definitions) for m in result.resources]
    if summary == "count":
        matches = []
    outcome = None
    if search_request.ignored:
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "warning",
                    "code": "not-supported",
                    "diagnostics": f"Search parameter {name!r} is not supported and was ignored",
                    "expression": [name],
                }
                for name in search_request.ignored
            ],
        }
    links = page_links(
        base,
        type_ or "",
        params,
        search_request.offset,
        search_request.count,
        result.total,
        result.next_cursor is not None,
        cursors=(
            encode_cursor(result.previous_cursor) if result.previous_cursor else None,
            encode_cursor(result.next_cursor) if result.next_cursor else None,
        ),
    )
    return searchset_bundle(base, matches, list(result.included), result.total, links, outcome)


# -- history -------------------------------------------------------------------------------------


def _history_query(request: Request, type_: str | None, id_: str | None) -> tuple[HistoryQuery, list[tuple[str, str]]]:
    svc = services(request)
    q = request.query_params
    count = _int_param(q.get("_count"), "_count", svc.settings.default_page_size)
    count = max(1, min(count, svc.settings.max_page_size))
    offset = _int_param(q.get("_offset"), "_offset", 0)
    until = instant_param(q.get("_until"), "_until")
    params = [(k, v) for k, v in _params(request) if k not in ("_format", "_pretty", "_until")]
    if until is None:
        until = datetime.now(UTC)
    params.append(("_until", instant(until)))
    query = HistoryQuery(
        resource_type=type_,
        id=id_,
        since=instant_param(q.get("_since"), "_since"),
        at=instant_param(q.get("_at"), "_at"),
        until=until,
        count=count,
        offset=offset,
    )
    return query, params


def _int_param(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise InvalidRequest(f"{name} must be a non-negative integer", location=(name,))
    return int(value)


async def history(request: Request) -> Response:
    svc = services(request)
    type_, id_ = request.path_params.get("type"), request.path_params.get("id")
    bundle = await history_resource(svc, base_url(request), request, type_, id_)
    return fhir_response(request, bundle, svc.definitions)


async def history_resource(svc: Services, base: str, request: Request, type_: str | None, id_: str | None) -> Resource:
    query, params = _history_query(request, type_, id_)
    page = await svc.repo.history_page(query)
    path = "/".join(p for p in (type_, id_) if p) + ("/_history" if type_ else "_history")
    if page.total is not None:
        links = page_links(base, path, params, query.offset, query.count, page.total, False)
    else:  # filled past hidden versions: the next page starts where this one stopped reading
        links = page_links(
            base, path, params, query.offset, query.count, None, False, filled=True, next_offset=page.next_offset
        )
    return history_bundle(base, page.versions, page.total, links)


# -- system level --------------------------------------------------------------------------------


async def system(request: Request) -> Response:
    svc = services(request)
    if request.method in ("GET", "HEAD"):
        return await _search(request, None, _params(request))
    if request.method != "POST":
        raise MethodNotAllowed(f"{request.method} is not allowed on the base URL")
    bundle = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
    base = base_url(request)

    async def read_entry(method: str, path: str, query: list[tuple[str, str]]) -> Resource:
        return await _entry_get(svc, base, path, query)

    if bundle.get("resourceType") != "Bundle":
        raise InvalidRequest("POST to the base URL takes a transaction or batch Bundle", location=("resourceType",))
    if bundle.get("type") == "transaction":
        result = await process_transaction(svc.repo, bundle, base, read_entry)
    elif bundle.get("type") == "batch":
        result = await process_batch(svc.repo, bundle, base, read_entry)
    else:
        raise InvalidRequest(
            "POST to the base URL takes a Bundle of type transaction or batch", location=("Bundle.type",)
        )
    return fhir_response(request, result, svc.definitions)


async def _entry_get(svc: Services, base: str, path: str, query: list[tuple[str, str]]) -> Resource:
    parts = [p for p in path.split("/") if p]
    if len(parts) == 2:
        return (await svc.repo.read(parts[0], parts[1])).resource()
    if len(parts) == 4 and parts[2] == "_history":
        return (await svc.repo.vread(parts[0], parts[1], parts[3])).resource()
    if len(parts) <= 1:
        return await search_bundle(svc, base, parts[0] if parts else None, query, strict=False)
    raise NotFound(f"The entry URL {path!r} is not a read or search this server answers")


async def not_found(request: Request) -> Response:
    raise NotFound(f"Nothing is served at {request.url.path}")


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REGISTER_TYPES = ("Consent", "Organization")


def _touches_registers(request: Request) -> bool:
    """Writes that can change the gate's registers: Consents (blocks), Organizations (SOR tree), bundles."""
    type_ = request.path_params.get("type")
    return type_ in _REGISTER_TYPES or type_ is None


def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Run a handler behind the security gate: authenticate, then every data access asks the session.

    The request's audit records are written when it ends (writes already wrote theirs inside their
    transaction). A request that cannot be authenticated is audited too, then refused.
    """

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        svc = services(request)
        if svc.gate is None:
            with as_system():
                return await handler(request)
        request_id = request_id_var.get() or str(uuid.uuid4())
        try:
            principal = svc.gate.authenticate(request.headers.items())
            require_data_context(principal)
        except BindeledError as error:
            await svc.gate.audit_unauthenticated(error, request.method.lower(), request_id)
            raise
        guard = RequestGuard(svc.gate.session(principal, request_id, request_id), svc.store)
        with use_guard(guard):
            try:
                response = await handler(request)
            except BindeledError as error:
                await guard.finish(error.status, error=error)
                raise
            await guard.finish(response.status_code)
        if request.method in _WRITES and response.status_code < 400 and _touches_registers(request):
            await svc.refresh_registers()
        return response

    return run


def routes() -> list[Route]:
    """The FHIR REST routes, most specific first (mounted under ``/fhir``)."""
    from .capability import metadata
    from .openapi import openapi_json
    from .operations import feature_routes
    from .operations.reindex import reindex_instance, reindex_system, reindex_type
    from .operations.validate import validate_instance, validate_type

    everything = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
    reads = ["GET", "HEAD"]
    data: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
        *feature_routes(),
        ("/", system, ["GET", "HEAD", "POST"]),
        ("/_history", history, reads),
        ("/_search", search_post, ["POST"]),
        ("/$reindex", reindex_system, ["POST"]),
        ("/{type}/$reindex", reindex_type, ["POST"]),
        ("/{type}/$validate", validate_type, ["POST"]),
        ("/{type}/_history", history, reads),
        ("/{type}/_search", search_post, ["POST"]),
        ("/{type}/{id}/$validate", validate_instance, ["GET", "POST"]),
        ("/{type}/{id}/_history/{vid}", vread, reads),
        ("/{type}/{id}/_history", history, reads),
        ("/{type}/{id}/$everything", everything_operation, ["GET"]),
        ("/{type}/{id}/$reindex", reindex_instance, ["POST"]),
        ("/{type}/{id}/{ctype}", compartment_search, reads),
        ("/{type}/{id}", instance, everything),
        ("/{type}", type_level, everything),
    ]
    public = [
        Route("/metadata", metadata, methods=reads),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
    # Every data route passes the security gate; only the server's self-description is public.
    return public + [Route(path, guarded(handler), methods=methods) for path, handler, methods in data]
