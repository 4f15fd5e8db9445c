"""Reading request bodies and writing FHIR responses in the negotiated format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest, PayloadTooLarge
from ..fhir import jsonio
from ..fhir.definitions import Definitions
from ..fhir.jsonio import Resource
from ..fhir.summary import select_elements, summarize
from ..fhir.xmlio import resource_to_xml, xml_to_resource
from .negotiation import FHIR_JSON, FHIR_XML, Format, body_format, response_format

__all__ = ["fhir_response", "parse_resource", "read_body", "read_resource", "shape"]


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest("Content-Length is not a number", location=("Content-Length",))
        if int(declared) > limit:
            raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_resource(data: bytes, fmt: Format, definitions: Definitions) -> Resource:
    if not data.strip():
        raise InvalidRequest("The request has no body; a FHIR resource is expected")
    if fmt == "xml":
        return xml_to_resource(data, definitions)
    return jsonio.decode(data)


async def read_resource(request: Request, limit: int, definitions: Definitions) -> Resource:
    """The FHIR resource in the body, in the format its Content-Type names."""
    fmt = body_format(request)
    return parse_resource(await read_body(request, limit), fmt, definitions)


def shape(resource: Resource, params: Mapping[str, str], definitions: Definitions) -> Resource:
    """Apply ``_summary`` / ``_elements`` to a single resource."""
    summary = params.get("_summary")
    if summary and summary != "count":
        resource = summarize(resource, summary, definitions)
    elements = params.get("_elements")
    if elements:
        resource = select_elements(resource, elements.split(","), definitions)
    return resource


def fhir_response(
    request: Request,
    body: Resource | bytes | None,
    definitions: Definitions,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    fmt: Format | None = None,
) -> Response:
    """Serialise a resource (or pass JSON bytes through) in the client's format."""
    chosen = fmt or response_format(request)
    out_headers = dict(headers or {})
    if body is None:
        return Response(status_code=status, headers=out_headers)
    pretty = request.query_params.get("_pretty") == "true"
    media = FHIR_XML if chosen == "xml" else FHIR_JSON
    if chosen == "json" and isinstance(body, bytes) and not pretty:
        return Response(body, status_code=status, headers=out_headers, media_type=media + "; charset=utf-8")
    resource: Any = jsonio.decode_stored(body) if isinstance(body, bytes) else body
    if chosen == "xml":
        content = resource_to_xml(resource, definitions)
    elif pretty:
        content = _pretty_json(resource)
    else:
        content = jsonio.encode(resource)
    return Response(content, status_code=status, headers=out_headers, media_type=media + "; charset=utf-8")


def _pretty_json(resource: Any) -> bytes:
    return msgspec.json.format(jsonio.encode(resource), indent=2)
