"""``GET [base]/Patient/{id}/$overview``: Et Samlet Patientoverblik in one call.

The card, current and coming appointments from every sector (earliest first), active shared plans and
the current stay, as a ``Parameters`` resource (see :mod:`bindeled.overview.patient_overview`). Every
item passes the security gate; the call leaves one MinLog entry for the citizen.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from ...overview.patient_overview import build_overview
from ..rendering import fhir_response
from ..services import services

__all__ = ["overview_operation"]


async def overview_operation(request: Request) -> Response:
    svc = services(request)
    overview = await build_overview(svc.repo, request.path_params["id"], datetime.now(UTC))
    return fhir_response(request, overview, svc.definitions)
