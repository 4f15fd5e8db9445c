"""The CapabilityStatement at ``/metadata``, generated from what this server really does.

Resource types and search parameters come from the loaded definitions (the same tables the search
code uses), interactions from the routes in ``rest.py``; nothing here is a hand-kept list of types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response

from .. import __version__
from ..fhir.definitions import Definitions
from ..fhir.jsonio import Resource
from .negotiation import FHIR_JSON, FHIR_XML
from .rendering import fhir_response
from .services import base_url, services

__all__ = ["capability_statement", "feature_operations", "metadata"]

_TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)


_STANDARD_OPERATIONS = {
    "process-message": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
    "everything": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
    "validate": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
    "reindex": "https://bindeled.dk/fhir/OperationDefinition/reindex",
}


def _operation(name: str) -> Resource:
    return {
        "name": name,
        "definition": _STANDARD_OPERATIONS.get(name, f"https://bindeled.dk/fhir/OperationDefinition/{name}"),
    }


def feature_operations() -> tuple[list[str], dict[str, list[str]]]:
    """The ``$operations`` the national services add: system-level names, and names per resource type."""
    from .operations import feature_routes

    system: list[str] = []
    by_type: dict[str, list[str]] = {}
    for path, _handler, _methods in feature_routes():
        parts = path.strip("/").split("/")
        named = [p for p in parts if p.startswith("$")]
        if not named:
            continue
        name = named[0][1:]
        if parts[0].startswith("$"):
            system.append(name)
        elif not parts[0].startswith("{"):
            by_type.setdefault(parts[0], []).append(name)
    return sorted(set(system)), {t: sorted(set(n)) for t, n in by_type.items()}


def _resource_entry(definitions: Definitions, type_name: str, extra_operations: list[str]) -> Resource:
    params = definitions.search_params(type_name)
    operations = ["validate", *(["everything"] if type_name == "Patient" else []), *extra_operations]
    return {
        "type": type_name,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{type_name}",
        "interaction": [{"code": code} for code in _TYPE_INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "full-support",
        "conditionalUpdate": True,
        "conditionalDelete": "multiple",
        "referencePolicy": ["literal", "logical", "local"],
        "searchInclude": ["*", *sorted(f"{type_name}:{c}" for c, p in params.items() if p.get("type") == "reference")],
        "searchParam": [
            {"name": code, "definition": p.get("url", ""), "type": p["type"]} for code, p in sorted(params.items())
        ],
        "operation": [_operation(name) for name in dict.fromkeys(operations)],
    }


@lru_cache(maxsize=4)
def _cached(definitions: Definitions, base_url: str) -> Resource:
    system_operations, type_operations = feature_operations()
    return {
        "resourceType": "CapabilityStatement",
        "id": "bindeled",
        "url": f"{base_url}/metadata",
        "name": "Bindeled",
        "title": "bindeled FHIR R4 server",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "publisher": "bindeled",
        "kind": "instance",
        "software": {"name": "bindeled", "version": __version__},
        "implementation": {"description": "bindeled — the link between Danish healthcare sectors", "url": base_url},
        "fhirVersion": definitions.version,
        "format": [FHIR_JSON, FHIR_XML, "json", "xml"],
        "patchFormat": ["application/json-patch+json", FHIR_JSON, FHIR_XML],
        "rest": [
            {
                "mode": "server",
                "extension": [
                    {
                        # Where websocket Subscriptions are bound (R4 websocket channel).
                        "url": "http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket",
                        "valueUri": base_url.replace("https://", "wss://").replace("http://", "ws://") + "/websocket",
                    }
                ],
                "resource": [
                    _resource_entry(definitions, t, type_operations.get(t, []))
                    for t in sorted(definitions.resource_types)
                ],
                "interaction": [
                    {"code": "transaction"},
                    {"code": "batch"},
                    {"code": "search-system"},
                    {"code": "history-system"},
                ],
                "operation": [_operation(name) for name in ["reindex", *system_operations]],
                "searchParam": [
                    {"name": n, "type": t}
                    for n, t in (
                        ("_id", "token"),
                        ("_lastUpdated", "date"),
                        ("_tag", "token"),
                        ("_profile", "uri"),
                        ("_security", "token"),
                    )
                ],
            }
        ],
    }


def capability_statement(definitions: Definitions, base_url: str) -> Resource:
    return _cached(definitions, base_url)


async def metadata(request: Request) -> Response:
    svc = services(request)
    return fhir_response(request, capability_statement(svc.definitions, base_url(request)), svc.definitions)
