"""The operators' rollout page: readiness per organisation and service, and what is live per municipality.

The view is the one ``GET /fhir/$rollout`` answers (``indicators/rollout``), read as the logged-in
operator through the gate; ``/rollout.json`` offers it for download. The organisation table can be
narrowed to one kind (municipalities by default, so the page stays short; 300 GP practices on request).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest
from ..indicators.rollout import SERVICES, RolloutView, rollout_view, view_json
from ..store.base import utc_now
from .access import data_access
from .framework import Page

__all__ = ["rollout", "rollout_json"]

_KINDS = ("municipality", "region", "practice", "all")


async def _view(page: Page) -> RolloutView:
    page.require("operator", refusal="not_operator")
    svc = page.services
    agreements = svc.gate.registers.trust_agreements if svc.gate is not None else ()
    async with data_access(page.request, page.session, interaction="search"):
        return await rollout_view(svc.repo, svc.store, agreements, svc.clients.values(), utc_now())


async def rollout(request: Request, page: Page) -> Response:
    kind = request.query_params.get("kind", "municipality")
    if kind not in _KINDS:
        raise InvalidRequest("kind is municipality, region, practice or all", location=("kind",))
    view = await _view(page)
    shown = [o for o in view.organisations if kind in ("all", o.kind)]
    return page.render(
        "rollout.html", view=view, organisations=shown, kind=kind, kinds=_KINDS, services=[s.id for s in SERVICES]
    )


async def rollout_json(request: Request, page: Page) -> Response:
    view = await _view(page)
    return Response(
        json.dumps(view_json(view), ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="rollout.json"'},
    )
