"""Surveillance reports over HTTP: ``GET /fhir/$haiba-report`` and the drill-down ``GET /fhir/$haiba-episodes``.

``$haiba-report?cutoff=<instant>&level=region|municipality|hospital&period=week|month&format=csv|html|pdf|fhir
&definition=haiba|haiba-2015|ecdc|nhsn`` brings the columnar extract up to the cut-off (system work over
the store's history, so results whose display the citizen refused still count), builds the report as
of the cut-off and returns it; ``format=fhir`` stores the Measures and MeasureReports and returns them
in a collection Bundle. ``$haiba-episodes`` (same ``cutoff``, ``level``, ``period`` and ``definition``,
plus ``infection``, ``area`` and ``label``, the period label such as ``2026-W10`` or ``2026-03``) lists
the episodes behind one cell as a Parameters resource.

Only administrators and epidemiologists (role ``epidemiologist`` acting for purpose ``SURVEILLANCE``)
may call them; everybody else gets 403. The cut-off may not lie in the future.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import polars as pl
from starlette.requests import Request
from starlette.responses import Response

from ...errors import Forbidden, InvalidRequest
from ...security.guard import RequestGuard
from ...store.guard import current_guard
from ...surveillance.extract import Extract, extract_store, load_extract
from ...surveillance.haiba import definition, run
from ...surveillance.reports import build_report, render, store_fhir
from ...surveillance.reports.build import LEVELS, PERIODS
from ..negotiation import instant_param
from ..rendering import fhir_response
from ..services import Services, services

__all__ = ["extract_folder", "haiba_episodes", "haiba_report"]

_LOCK = asyncio.Lock()
"""One extract run at a time in this process (they append to the same folder)."""


def extract_folder(svc: Services) -> Path:
    """Where the server keeps its surveillance extract: ``<data_dir>/surveillance/extract``."""
    return Path(svc.settings.data_dir) / "surveillance" / "extract"


def _require_surveillance_access() -> None:
    guard = current_guard()
    if not isinstance(guard, RequestGuard):
        return  # security switched off (benchmark baselines) or trusted system work
    principal = guard.session.principal
    if principal.admin or (principal.role == "epidemiologist" and principal.purpose == "SURVEILLANCE"):
        return
    raise Forbidden(
        "surveillance reports are for epidemiologists acting for purpose SURVEILLANCE and administrators",
        details_code="surveillance_role_required",
    )


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in allowed:
        raise InvalidRequest(f"{name} must be one of {', '.join(allowed)}", location=(name,))
    return value


def _cutoff(request: Request) -> datetime:
    cutoff = instant_param(request.query_params.get("cutoff"), "cutoff")
    if cutoff is None:
        raise InvalidRequest("cutoff is required (an instant such as 2026-03-01T00:00:00Z)", location=("cutoff",))
    if cutoff > datetime.now(UTC):
        raise InvalidRequest("cutoff must not lie in the future", location=("cutoff",))
    return cutoff


async def _extract(svc: Services, cutoff: datetime) -> Extract:
    folder = extract_folder(svc)
    async with _LOCK:
        await extract_store(svc.repo, folder, cutoff)
    return await anyio.to_thread.run_sync(load_extract, folder, cutoff)


async def haiba_report(request: Request) -> Response:
    _require_surveillance_access()
    svc = services(request)
    level = _choice(request, "level", LEVELS, "region")
    period = _choice(request, "period", PERIODS, "month")
    fmt = _choice(request, "format", ("csv", "html", "pdf", "fhir"), "csv")
    name = _choice(request, "definition", ("haiba", "haiba-2015", "ecdc", "nhsn"), "haiba")
    extract = await _extract(svc, _cutoff(request))
    report = await anyio.to_thread.run_sync(
        lambda: build_report(extract, level=level, period=period, definition_name=name)
    )
    if fmt == "fhir":
        resources = await store_fhir(svc.repo, report)
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
        return fhir_response(request, bundle, svc.definitions)
    body, media = render(report, fmt)
    filename = f"haiba-{level}-{period}-{report.cutoff.strftime('%Y%m%dT%H%M%SZ')}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _label(period: str) -> pl.Expr:
    if period == "week":
        return pl.format("{}-W{}", pl.col("iso_year"), pl.col("iso_week").cast(pl.String).str.pad_start(2, "0"))
    return pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.pad_start(2, "0"))


def _episodes(
    extract: Extract, name: str, infection: str, level: str, area: str, period: str, label: str
) -> pl.DataFrame:
    result = run(extract.haiba, as_of=extract.cutoff, definition=definition(name), infections=[infection])
    eps = result.episodes.filter(pl.col("counted"))
    if level == "municipality":
        eps = eps.join(extract.municipalities, on="patient", how="left")
    eps = eps.with_columns(area=pl.col(level).fill_null("unknown"), label=_label(period))
    return eps.filter((pl.col("area") == area) & (pl.col("label") == label)).sort("sampled_at", "sample_id")


def _parameter(row: dict[str, Any]) -> dict[str, Any]:
    parts = [
        {"name": "patient", "valueReference": {"reference": f"Patient/{row['patient']}"}},
        {"name": "sample", "valueString": row["sample_id"]},
        {"name": "sampledAt", "valueDateTime": row["sampled_at"].isoformat()},
        {"name": "class", "valueCode": row["class"]},
        {"name": "organisms", "valueString": row["organisms"] or ""},
    ]
    for unit in ("region", "hospital", "department", "ward"):
        if row.get(unit):
            parts.append({"name": unit, "valueString": str(row[unit])})
    return {"name": "episode", "part": parts}


async def haiba_episodes(request: Request) -> Response:
    _require_surveillance_access()
    svc = services(request)
    level = _choice(request, "level", LEVELS, "region")
    period = _choice(request, "period", PERIODS, "month")
    infection = _choice(request, "infection", ("bacteraemia", "uti", "cdi"), "bacteraemia")
    name = _choice(request, "definition", ("haiba", "haiba-2015", "ecdc", "nhsn"), "haiba")
    area, label = request.query_params.get("area"), request.query_params.get("label")
    if not area or not label:
        raise InvalidRequest("area and label (e.g. 2026-W10 or 2026-03) are required", location=("area",))
    extract = await _extract(svc, _cutoff(request))
    eps = await anyio.to_thread.run_sync(lambda: _episodes(extract, name, infection, level, area, period, label))
    body = {"resourceType": "Parameters", "parameter": [_parameter(r) for r in eps.to_dicts()]}
    return fhir_response(request, body, svc.definitions)
