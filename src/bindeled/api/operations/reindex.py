"""``$reindex`` at system, type and instance level: rebuild search-index rows of stored resources.

Needed after a custom SearchParameter is registered (or changed): resources stored before it have no
rows for it. The work runs in batches of its own transactions (see :mod:`bindeled.store.search.reindex`),
so it is safe on a large database; the answer is a Parameters resource with what was done. POST only:
it changes server state. ``batchSize`` (URL or body Parameters) tunes the batch.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequest
from ...fhir.jsonio import Resource
from ..rendering import fhir_response, read_resource
from ..services import services

__all__ = ["reindex_instance", "reindex_system", "reindex_type"]

_MAX_BATCH = 10_000


async def _batch_size(request: Request) -> int:
    raw: object = request.query_params.get("batchSize")
    if raw is None and request.headers.get("content-length", "0") != "0":
        svc = services(request)
        body = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
        if body.get("resourceType") != "Parameters":
            raise InvalidRequest("$reindex takes a Parameters resource", location=("resourceType",))
        for param in body.get("parameter", ()):
            if param.get("name") == "batchSize":
                raw = param.get("valuePositiveInt", param.get("valueInteger"))
    if raw is None:
        return 500
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= _MAX_BATCH:
        raise InvalidRequest(f"batchSize is a whole number from 1 to {_MAX_BATCH}", location=("batchSize",))
    return int(text)


async def _run(request: Request, resource_type: str | None, id: str | None) -> Response:
    svc = services(request)
    result = await svc.repo.reindex(resource_type, id, batch_size=await _batch_size(request))
    parameters: Resource = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resources", "valueInteger": result.resources},
            {"name": "indexRows", "valueInteger": result.rows},
            {"name": "batches", "valueInteger": result.batches},
        ],
    }
    return fhir_response(request, parameters, svc.definitions)


async def reindex_system(request: Request) -> Response:
    """``POST [base]/$reindex``: every stored resource."""
    return await _run(request, None, None)


async def reindex_type(request: Request) -> Response:
    """``POST [base]/[type]/$reindex``: every resource of one type."""
    return await _run(request, request.path_params["type"], None)


async def reindex_instance(request: Request) -> Response:
    """``POST [base]/[type]/[id]/$reindex``: one resource."""
    p = request.path_params
    return await _run(request, p["type"], p["id"])
