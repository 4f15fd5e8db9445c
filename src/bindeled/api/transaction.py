"""Transaction and batch Bundles.

A *transaction* is all-or-nothing: every entry runs inside one store transaction, in the order R4
prescribes (DELETE, then POST, then PUT and PATCH, then GET and HEAD), after every ``urn:uuid:``
full URL and every conditional reference (``Patient?identifier=…``) has been resolved and
rewritten. The first failing entry rolls everything back and the client gets that entry's error,
located at ``Bundle.entry[i]``.

A *batch* runs each entry on its own; a failing entry gets its error in its response entry and the
others still happen.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import BindeledError, InvalidRequest, PreconditionFailed
from ..fhir import jsonio
from ..fhir.jsonio import Resource
from ..fhir.outcome import from_error
from ..store.base import StoredResource, Transaction, run_transaction
from ..store.guard import current_guard
from ..store.repository import Repository, WriteResult
from .bundling import instant

__all__ = ["EntryRequest", "ReadHandler", "process_batch", "process_transaction"]

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
_REASONS = {200: "OK", 201: "Created", 204: "No Content"}

ReadHandler = Callable[[str, str, list[tuple[str, str]]], Awaitable[Resource]]
"""Answers a GET entry: (method, path, query parameters) → the resource or Bundle to return."""


@dataclass(slots=True)
class EntryRequest:
    """One Bundle entry's request, taken apart."""

    index: int
    method: str
    path: str
    """The URL path relative to the base, without query (``Patient/123``)."""
    query: list[tuple[str, str]]
    full_url: str | None
    resource: Resource | None
    if_match: int | None = None
    if_none_exist: str | None = None
    raw_url: str = ""
    target: str | None = None
    """For writes: the ``Type/id`` the entry ends up writing (resolved before the writes)."""
    existing: StoredResource | None = None
    """For a conditional create that matched: the resource it matched (nothing is written)."""
    body: Resource | None = None
    """The resource with its references rewritten; made afresh on every attempt of the transaction."""

    def reset(self) -> None:
        """Forget what one attempt decided, so a retried transaction starts from the request again."""
        self.target, self.existing, self.body = None, None, self.resource

    @property
    def location(self) -> str:
        return f"Bundle.entry[{self.index}]"

    @property
    def parts(self) -> list[str]:
        return [p for p in self.path.split("/") if p]


def _parse_entry(index: int, entry: Any, base_url: str) -> EntryRequest:
    where = f"Bundle.entry[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        raise InvalidRequest("Every entry needs a request", location=(f"{where}.request",))
    request = entry["request"]
    method = request.get("method")
    url = request.get("url")
    if method not in _ORDER or not isinstance(url, str) or not url:
        raise InvalidRequest(
            "The entry request needs a method (GET, HEAD, POST, PUT, PATCH, DELETE) and a url",
            location=(f"{where}.request",),
        )
    if base_url and url.startswith(base_url + "/"):
        url = url[len(base_url) + 1 :]
    split = urlsplit(url)
    if split.scheme or split.netloc:
        raise InvalidRequest("The entry url must be relative to this server's base", location=(f"{where}.request.url",))
    etag = request.get("ifMatch")
    if_match = None
    if etag:
        text = str(etag).removeprefix("W/").strip('"')
        if not text.isdigit():
            raise InvalidRequest("ifMatch must be a version ETag", location=(f"{where}.request.ifMatch",))
        if_match = int(text)
    resource = entry.get("resource")
    if method in ("POST", "PUT") and not isinstance(resource, dict):
        raise InvalidRequest(f"A {method} entry needs a resource", location=(f"{where}.resource",))
    return EntryRequest(
        index=index,
        method=method,
        path=split.path.strip("/"),
        query=parse_qsl(split.query, keep_blank_values=True),
        full_url=entry.get("fullUrl"),
        resource=resource,
        if_match=if_match,
        if_none_exist=request.get("ifNoneExist"),
        raw_url=url,
    )


def _parse_entries(bundle: Resource, kind: str, base_url: str) -> list[EntryRequest]:
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != kind:
        raise InvalidRequest(f"Expected a Bundle of type {kind}", location=("Bundle.type",))
    return [_parse_entry(i, e, base_url) for i, e in enumerate(bundle.get("entry", ()))]


def _status(code: int) -> str:
    return f"{code} {_REASONS.get(code, '')}".strip()


def _write_response(result: WriteResult, base_url: str) -> Resource:
    stored = result.stored
    code = 201 if result.created else 200
    return {
        "response": {
            "status": _status(code),
            "location": f"{base_url}/{stored.resource_type}/{stored.id}/_history/{stored.version_id}",
            "etag": stored.etag,
            "lastModified": instant(stored.last_updated),
        },
        "resource": stored.resource(),
    }


def _delete_response(stored: StoredResource | None) -> Resource:
    response: Resource = {"status": _status(204)}
    if stored is not None:
        response["etag"] = stored.etag
        response["lastModified"] = instant(stored.last_updated)
    return {"response": response}


def _error_response(error: BindeledError) -> Resource:
    return {"response": {"status": str(error.status), "outcome": from_error(error)}}


def _patch_document(entry: EntryRequest) -> tuple[Any, str]:
    """A PATCH entry carries a Binary with a JSON Patch, or a Parameters resource (FHIRPath Patch)."""
    resource = entry.resource
    if isinstance(resource, dict) and resource.get("resourceType") == "Parameters":
        return resource, "fhirpath"
    if isinstance(resource, dict) and resource.get("resourceType") == "Binary":
        try:
            raw = base64.b64decode(resource.get("data", ""), validate=True)
        except ValueError:
            raise InvalidRequest(
                "The Binary patch is not base64", location=(f"{entry.location}.resource.data",)
            ) from None
        return jsonio.decode_any(raw), "json"
    raise InvalidRequest(
        "A PATCH entry needs a Binary (JSON Patch) or Parameters (FHIRPath Patch) resource",
        location=(f"{entry.location}.resource",),
    )


class _Run:
    """Executes entries against a repository inside one store transaction."""

    def __init__(self, repo: Repository, tx: Transaction, base_url: str, read: ReadHandler) -> None:
        self.repo, self.tx, self.base_url, self.read = repo, tx, base_url, read

    async def write(self, entry: EntryRequest) -> Resource:
        parts, repo, tx = entry.parts, self.repo, self.tx
        if entry.method == "DELETE":
            if len(parts) == 1 and entry.query:
                await repo.conditional_delete_in(tx, parts[0], _query_string(entry.query))
                return _delete_response(None)
            _expect_instance(entry)
            return _delete_response(await repo.delete_in(tx, parts[0], parts[1], if_match=entry.if_match))
        assert entry.body is not None or entry.method == "PATCH"
        if entry.method == "POST":
            if len(parts) != 1:
                raise InvalidRequest(
                    "A POST entry url must be a resource type", location=(f"{entry.location}.request.url",)
                )
            resource = entry.body or {}
            if entry.existing is not None:
                return _write_response(WriteResult(entry.existing, created=False, changed=False), self.base_url)
            new_id = entry.target.split("/", 1)[1] if entry.target else None
            return _write_response(await repo.create_in(tx, parts[0], resource, id=new_id), self.base_url)
        if entry.method == "PUT":
            resource = entry.body or {}
            if entry.target is None:
                raise InvalidRequest(
                    "A PUT entry url must be Type/id or Type?criteria", location=(f"{entry.location}.request.url",)
                )
            type_, id_ = entry.target.split("/", 1)
            return _write_response(
                await repo.update_in(tx, type_, id_, {**resource, "id": id_}, if_match=entry.if_match), self.base_url
            )
        document, kind = _patch_document(entry)
        if len(parts) == 1 and entry.query:
            matches = await repo.matches(tx, parts[0], _query_string(entry.query))
            if len(matches) != 1:
                raise PreconditionFailed(f"The conditional patch criteria match {len(matches)} resources")
            parts = [parts[0], matches[0].id]
        elif len(parts) != 2:
            raise InvalidRequest(
                "A PATCH entry url must be Type/id or Type?criteria", location=(f"{entry.location}.request.url",)
            )
        result = await repo.patch_in(tx, parts[0], parts[1], document, kind=kind, if_match=entry.if_match)
        return _write_response(result, self.base_url)

    async def get(self, entry: EntryRequest) -> Resource:
        resource = await self.read(entry.method, entry.path, entry.query)
        return {"response": {"status": _status(200)}, "resource": resource}


def _expect_instance(entry: EntryRequest) -> None:
    if len(entry.parts) != 2:
        raise InvalidRequest(f"A {entry.method} entry url must be Type/id", location=(f"{entry.location}.request.url",))


def _query_string(query: list[tuple[str, str]]) -> str:
    return urlencode(query)


async def _resolve_targets(run: _Run, entries: list[EntryRequest]) -> dict[str, str]:
    """Decide the ``Type/id`` of every POST and PUT entry; map full URLs to them."""
    mapping: dict[str, str] = {}
    for entry in entries:
        parts = entry.parts
        if entry.method == "POST" and len(parts) == 1:
            run.repo.check_type(parts[0])
            target_id = str(uuid.uuid4())
            if entry.if_none_exist:
                found = await run.repo.matches(run.tx, parts[0], entry.if_none_exist)
                if len(found) > 1:
                    raise PreconditionFailed(
                        "ifNoneExist matches more than one resource",
                        location=(f"{entry.location}.request.ifNoneExist",),
                    )
                if found:
                    target_id, entry.existing = found[0].id, found[0]
            entry.target = f"{parts[0]}/{target_id}"
        elif entry.method == "PUT" and len(parts) == 2:
            entry.target = f"{parts[0]}/{parts[1]}"
        elif entry.method == "PUT" and len(parts) == 1 and entry.query:
            found = await run.repo.matches(run.tx, parts[0], _query_string(entry.query))
            if len(found) > 1:
                raise PreconditionFailed(
                    "The conditional update criteria match more than one resource",
                    location=(f"{entry.location}.request.url",),
                )
            body_id = (entry.resource or {}).get("id")
            if found and body_id and body_id != found[0].id:
                raise InvalidRequest(
                    "The id in the entry resource is not the id the criteria match",
                    location=(f"{entry.location}.resource.id",),
                )
            entry.target = f"{parts[0]}/{found[0].id if found else (body_id or uuid.uuid4())}"
        if entry.full_url and entry.target:
            mapping[entry.full_url] = entry.target
    return mapping


async def _resolve_conditional_references(run: _Run, entries: list[EntryRequest]) -> dict[str, str]:
    """``Patient?identifier=x`` inside a resource → the one ``Patient/id`` it matches (else 412)."""
    found: dict[str, str] = {}
    for entry in entries:
        if entry.resource is None:
            continue
        for reference in _all_reference_strings(entry.resource):
            if "?" not in reference or reference in found or reference.startswith(("http:", "https:", "urn:")):
                continue
            type_, _, criteria = reference.partition("?")
            matches = await run.repo.matches(run.tx, type_, criteria)
            if len(matches) != 1:
                raise PreconditionFailed(
                    f"The conditional reference to {type_} matches {len(matches)} resources (it must match one)",
                    location=(f"{entry.location}.resource",),
                )
            found[reference] = f"{type_}/{matches[0].id}"
    return found


def _all_reference_strings(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            out.append(ref)
        for value in node.values():
            out.extend(_all_reference_strings(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_all_reference_strings(item))
    return out


def _rewrite(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite(v, mapping) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, mapping) for v in node]
    if isinstance(node, str):
        if node in mapping:
            return mapping[node]
        if node.startswith(("urn:uuid:", "urn:oid:")):
            return node
        hashless, sep, fragment = node.partition("#")
        if sep and hashless in mapping:
            return f"{mapping[hashless]}#{fragment}"
    return node


async def process_transaction(repo: Repository, bundle: Resource, base_url: str, read: ReadHandler) -> Resource:
    """Run a ``transaction`` Bundle; returns the ``transaction-response`` Bundle or raises the first error."""
    entries = _parse_entries(bundle, "transaction", base_url)
    seen: set[str] = set()
    for entry in entries:
        if entry.full_url:
            if entry.full_url in seen:
                raise InvalidRequest("Two entries have the same fullUrl", location=(f"{entry.location}.fullUrl",))
            seen.add(entry.full_url)
    ordered = sorted(entries, key=lambda e: _ORDER[e.method])

    async def attempt(tx: Transaction) -> dict[int, Resource]:
        responses: dict[int, Resource] = {}
        for entry in entries:
            entry.reset()
        run = _Run(repo, tx, base_url, read)
        try:
            for entry in ordered:
                if entry.method == "DELETE":
                    responses[entry.index] = await run.write(entry)
            mapping = await _resolve_targets(run, entries)
            mapping.update(await _resolve_conditional_references(run, entries))
            for entry in entries:
                if entry.resource is not None:
                    entry.body = _rewrite(entry.resource, mapping)
            for entry in ordered:
                if entry.method in ("POST", "PUT", "PATCH"):
                    responses[entry.index] = await run.write(entry)
            for entry in ordered:
                if entry.method in ("GET", "HEAD"):
                    responses[entry.index] = await run.get(entry)
            await current_guard().finish(200, tx)
        except BindeledError as error:
            failing = _current_entry(entries, responses)
            if failing is not None and not error.location:
                error.location = (failing.location,)
            raise
        return responses

    responses = await run_transaction(repo.store, attempt)
    return _response_bundle("transaction-response", [responses[e.index] for e in entries])


def _current_entry(entries: list[EntryRequest], responses: dict[int, Resource]) -> EntryRequest | None:
    ordered = sorted(entries, key=lambda e: _ORDER[e.method])
    for entry in ordered:
        if entry.index not in responses:
            return entry
    return None


async def process_batch(repo: Repository, bundle: Resource, base_url: str, read: ReadHandler) -> Resource:
    """Run a ``batch`` Bundle; each entry on its own, failures reported per entry."""
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "batch":
        raise InvalidRequest("Expected a Bundle of type batch", location=("Bundle.type",))
    out: list[Resource] = []
    for index, raw in enumerate(bundle.get("entry", ())):
        try:
            entry = _parse_entry(index, raw, base_url)
            if entry.method in ("GET", "HEAD"):
                out.append(
                    {
                        "response": {"status": _status(200)},
                        "resource": await read(entry.method, entry.path, entry.query),
                    }
                )
                continue
            out.append(await run_transaction(repo.store, partial(_batch_write, repo, entry, base_url, read)))
        except BindeledError as error:
            out.append(_error_response(error))
    return _response_bundle("batch-response", out)


async def _batch_write(
    repo: Repository, entry: EntryRequest, base_url: str, read: ReadHandler, tx: Transaction
) -> Resource:
    entry.reset()
    run = _Run(repo, tx, base_url, read)
    if entry.method in ("POST", "PUT"):
        await _resolve_targets(run, [entry])
    return await run.write(entry)


def _response_bundle(kind: str, entries: list[Resource]) -> Resource:
    bundle: Resource = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": kind}
    if entries:
        bundle["entry"] = entries
    return bundle
