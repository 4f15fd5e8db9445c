"""An OpenAPI 3 description of the FHIR REST API, derived from the CapabilityStatement.

It serves two purposes: tools (Swagger UI, client generators) can read it from ``/fhir/openapi.json``,
and the schema-driven fuzz tests use it to aim malformed requests at every interaction. Bodies are
described generically (a JSON object with a ``resourceType``); the FHIR validator, not OpenAPI,
decides what a valid resource is.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..fhir.definitions import Definitions
from ..fhir.jsonio import Resource
from .capability import capability_statement
from .negotiation import FHIR_JSON
from .services import base_url, services

__all__ = ["openapi_document", "openapi_json"]

_OUTCOME = {"description": "OperationOutcome", "content": {FHIR_JSON: {"schema": {"type": "object"}}}}


def _body(resource_type: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}, "id": {"type": "string"}},
        "additionalProperties": True,
    }
    return {"required": True, "content": {FHIR_JSON: {"schema": schema}}}


def _responses(*codes: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        code: {"description": "Success", "content": {FHIR_JSON: {"schema": {"type": "object"}}}} for code in codes
    }
    out["default"] = _OUTCOME
    return out


def _id_param(name: str = "id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _type_paths(entry: Resource) -> dict[str, Any]:
    type_name = entry["type"]
    search = [
        {"name": p["name"], "in": "query", "required": False, "schema": {"type": "string"}}
        for p in entry.get("searchParam", ())
    ]
    ident = [_id_param()]
    return {
        f"/{type_name}": {
            "get": {"operationId": f"search{type_name}", "parameters": search, "responses": _responses("200")},
            "post": {
                "operationId": f"create{type_name}",
                "requestBody": _body(type_name),
                "responses": _responses("200", "201"),
            },
        },
        f"/{type_name}/{{id}}": {
            "get": {"operationId": f"read{type_name}", "parameters": ident, "responses": _responses("200")},
            "put": {
                "operationId": f"update{type_name}",
                "parameters": ident,
                "requestBody": _body(type_name),
                "responses": _responses("200", "201"),
            },
            "delete": {"operationId": f"delete{type_name}", "parameters": ident, "responses": _responses("200", "204")},
            "patch": {
                "operationId": f"patch{type_name}",
                "parameters": ident,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json-patch+json": {"schema": {"type": "array", "items": {"type": "object"}}}
                    },
                },
                "responses": _responses("200"),
            },
        },
        f"/{type_name}/{{id}}/_history": {
            "get": {"operationId": f"history{type_name}", "parameters": ident, "responses": _responses("200")},
        },
        f"/{type_name}/{{id}}/_history/{{vid}}": {
            "get": {
                "operationId": f"vread{type_name}",
                "parameters": [*ident, _id_param("vid")],
                "responses": _responses("200"),
            },
        },
        f"/{type_name}/$validate": {
            "post": {
                "operationId": f"validate{type_name}",
                "requestBody": _body(type_name),
                "responses": _responses("200"),
            },
        },
    }


@lru_cache(maxsize=4)
def openapi_document(definitions: Definitions, base: str) -> dict[str, Any]:
    cap = capability_statement(definitions, base)
    paths: dict[str, Any] = {
        "/": {
            "post": {
                "operationId": "transactionOrBatch",
                "requestBody": _body("Bundle"),
                "responses": _responses("200"),
            }
        },
        "/metadata": {"get": {"operationId": "capabilities", "responses": _responses("200")}},
    }
    for entry in cap["rest"][0]["resource"]:
        paths.update(_type_paths(entry))
    return {
        "openapi": "3.0.3",
        "info": {"title": "bindeled FHIR R4 API", "version": cap["software"]["version"]},
        "servers": [{"url": base}],
        "paths": paths,
    }


async def openapi_json(request: Request) -> Response:
    svc = services(request)
    return JSONResponse(openapi_document(svc.definitions, base_url(request)))
