"""The rollout view and its register: ``GET /fhir/$rollout`` and ``/fhir/$rollout-plans``.

=====================================================  ==========================================================
``GET  /fhir/$rollout``                                operators and administrators: every organisation's
                                                       readiness per service and the services live per
                                                       municipality (``indicators/rollout``), as JSON
``GET  /fhir/$rollout-plans``                          administrators: every planned go-live and live flag
``PUT|DELETE /fhir/$rollout-plans/{organisation}/{s}``  administrators: set (201 new / 200) or remove (204) one
                                                       organisation's plan for service ``s``; the body is
                                                       ``{"planned_go_live": "YYYY-MM-DD", "live": bool,
                                                       "note": "..."}``
=====================================================  ==========================================================

Every call passes the security gate and leaves an AuditEvent, like the security registers' API.
Bodies and answers are plain JSON; errors are OperationOutcomes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...errors import NotFound
from ...indicators.rollout import RolloutRegister, decode_plan, rollout_view
from ...security.guard import require_admin, require_operator
from ...store.base import utc_now
from ..rendering import read_body
from ..services import services

__all__ = ["rollout", "rollout_plan", "rollout_plans", "routes"]


def routes() -> list[tuple[str, Any, list[str]]]:
    """This module's entries for ``feature_routes()``."""
    return [
        ("/$rollout", rollout, ["GET"]),
        ("/$rollout-plans", rollout_plans, ["GET"]),
        ("/$rollout-plans/{organisation}/{service}", rollout_plan, ["PUT", "DELETE"]),
    ]


def _answer(body: object, status: int = 200) -> Response:
    return JSONResponse(msgspec.to_builtins(body), status_code=status, media_type="application/json")


async def rollout(request: Request) -> Response:
    require_operator()
    svc = services(request)
    agreements = svc.gate.registers.trust_agreements if svc.gate is not None else ()
    view = await rollout_view(svc.repo, svc.store, agreements, svc.clients.values(), utc_now())
    return Response(msgspec.json.encode(view), media_type="application/json")  # the JSON of view_json, encoded once


async def rollout_plans(request: Request) -> Response:
    require_admin()
    return _answer({"plans": await RolloutRegister(services(request).store).plans()})


async def rollout_plan(request: Request) -> Response:
    require_admin()
    svc = services(request)
    organisation, service = str(request.path_params["organisation"]), str(request.path_params["service"])
    register = RolloutRegister(svc.store)
    if request.method == "DELETE":
        if not await register.delete(organisation, service):
            raise NotFound(f"No rollout plan for service {service!r} of that organisation")
        return Response(status_code=204)
    plan = decode_plan(organisation, service, await read_body(request, svc.settings.max_body_bytes))
    created = await register.put(plan, utc_now())
    return _answer(plan, 201 if created else 200)
