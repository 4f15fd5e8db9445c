"""``$validate`` on a type (a resource in the body) or an instance (the stored one, or a proposed one).

The answer is always an OperationOutcome with status 200 when validation ran, whatever it found;
the issues say whether the resource is valid. The ``profile`` parameter (URL or body ``Parameters``)
validates against that profile as well as the base definitions.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...errors import InvalidRequest
from ...fhir.jsonio import Resource
from ...fhir.outcome import operation_outcome
from ..rendering import fhir_response, read_resource
from ..services import services

__all__ = ["validate_instance", "validate_type"]


def _unwrap(body: Resource) -> tuple[Resource | None, list[str], str | None]:
    """Accept a bare resource or Parameters(resource, profile, mode)."""
    if body.get("resourceType") != "Parameters":
        return body, [], None
    resource: Resource | None = None
    profiles: list[str] = []
    mode: str | None = None
    params = body.get("parameter", [])
    if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        raise InvalidRequest("Parameters.parameter must be an array of objects", location=("Parameters.parameter",))
    for param in params:
        name = param.get("name")
        if name == "resource":
            resource = param.get("resource")
            if not isinstance(resource, dict):
                raise InvalidRequest("The resource parameter must hold a resource", location=("Parameters.parameter",))
        elif name == "profile":
            profiles.append(str(param.get("valueUri") or param.get("valueCanonical") or ""))
        elif name == "mode":
            mode = param.get("valueCode")
    return resource, [p for p in profiles if p], mode


async def _run(request: Request, resource: Resource, profiles: list[str]) -> Response:
    svc = services(request)
    type_ = request.path_params["type"]
    if resource.get("resourceType") != type_:
        raise InvalidRequest(f"$validate on {type_} needs a {type_} resource", location=("resourceType",))
    profiles += request.query_params.getlist("profile")
    issues = svc.validator.validate(resource, tuple(profiles))
    return fhir_response(request, operation_outcome(issues), svc.definitions)


async def validate_type(request: Request) -> Response:
    svc = services(request)
    svc.repo.check_type(request.path_params["type"])
    body = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
    resource, profiles, _mode = _unwrap(body)
    if resource is None:
        raise InvalidRequest("$validate needs a resource to validate", location=("Parameters.parameter",))
    return await _run(request, resource, profiles)


async def validate_instance(request: Request) -> Response:
    svc = services(request)
    type_, id_ = request.path_params["type"], request.path_params["id"]
    resource: Any = None
    profiles: list[str] = []
    if request.method == "POST" and request.headers.get("content-length", "0") != "0":
        body = await read_resource(request, svc.settings.max_body_bytes, svc.definitions)
        resource, profiles, mode = _unwrap(body)
        if mode == "delete":
            await svc.repo.read(type_, id_)
            return fhir_response(request, operation_outcome([]), svc.definitions)
    if resource is None:
        resource = (await svc.repo.read(type_, id_)).resource()
    return await _run(request, resource, profiles)
