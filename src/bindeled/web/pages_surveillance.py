"""The epidemiologist's page: hospital-acquired infection rates per area and period, signals, downloads.

The epidemiologist (role ``epidemiologist``, purpose ``SURVEILLANCE``) is authenticated and audited
through the gate; the surveillance extract and reports (``surveillance/extract``, ``surveillance/
reports``) then run as the statutory surveillance job they are. Rates are shown per 10,000 risk days,
with small counts suppressed as the report does (``<5`` / ``x``), and a u-chart per infection: the
regional rate per period against its centre line and upper control limit (3 sigma, Poisson).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import anyio
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from ..api.operations.surveillance import _LOCK as EXTRACT_LOCK
from ..api.operations.surveillance import _episodes, extract_folder
from ..errors import Forbidden, InvalidRequest
from ..surveillance.extract import Extract, extract_store, load_extract
from ..surveillance.haiba.definition import INFECTIONS
from ..surveillance.reports import LEVELS, PERIODS, RateTable, Report, build_report, render
from .access import data_access
from .framework import Page
from .svg import control_chart

__all__ = ["episodes", "report_download", "surveillance"]

_FORMATS = ("csv", "pdf", "html")


@dataclass(frozen=True, slots=True)
class TableView:
    """One infection's table as the template shows it."""

    infection: str
    periods: tuple[str, ...]
    rows: list[tuple[str, list[tuple[str, str]]]]
    """(area, cells): each cell's text ``episodes (rate)`` and its drill-down link."""
    chart: Markup


def _choice(page: Page, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = page.request.query_params.get(name, default)
    if value not in allowed:
        raise InvalidRequest(f"{name} is one of {', '.join(allowed)}", location=(name,))
    return value


def _require_epidemiologist(page: Page) -> None:
    principal = page.require("hcp", refusal="not_epidemiologist")
    if not principal.admin and principal.role != "epidemiologist":
        raise Forbidden("This page is for epidemiologists", details_code="not_epidemiologist")


async def _extract(page: Page) -> Extract:
    """The surveillance extract brought up to now (one run at a time, shared with ``$haiba-report``)."""
    _require_epidemiologist(page)
    folder = extract_folder(page.services)
    cutoff = datetime.now(UTC).replace(microsecond=0)
    async with data_access(page.request, page.session, purpose="SURVEILLANCE", interaction="search"), EXTRACT_LOCK:
        await extract_store(page.services.repo, folder, cutoff)
    return await anyio.to_thread.run_sync(load_extract, folder, cutoff)


async def _report(page: Page, level: str, period: str) -> Report:
    extract = await _extract(page)
    return await anyio.to_thread.run_sync(lambda: build_report(extract, level=level, period=period))


def _cell(table: RateTable, element: tuple[str, int, int]) -> str:
    rate = table.rate(element)
    shown = table.episodes.shown(element)
    return shown if rate is None else f"{shown} ({rate:.1f})"


def _u_chart(table: RateTable, ident: str, title: str) -> Markup:
    """Regional rate per period (per 10,000 risk days) with the u-chart's centre line and upper limit.

    Only published numbers are used: suppressed totals leave gaps, so the chart reveals nothing the
    table hides.
    """
    centre = table.rate(("all", 0, 0))  # None when the grand total is suppressed: then no limits either
    values: list[float | None] = []
    upper: list[float | None] = []
    for j in range(len(table.periods)):
        values.append(table.rate(("col", j, 0)))
        days = table.risk(None, j)
        upper.append(centre + 3 * math.sqrt(centre / (days / 10_000)) if centre is not None and days > 0 else None)
    return control_chart(list(table.periods), values, upper, centre, title, ident)


def _link(table: RateTable, level: str, period: str, i: int, j: int) -> str:
    """Every cell links to its episodes: the epidemiologist is authorised to see them, suppressed or not, and a
    link only on some cells would tell which masked cells are empty."""
    query = urlencode(
        {
            "level": level,
            "period": period,
            "infection": table.infection,
            "area": table.areas[i],
            "label": table.periods[j],
        }
    )
    return f"/surveillance/episodes?{query}"


def _view(page: Page, report: Report, table: RateTable, index: int) -> TableView:
    rows = [
        (
            area,
            [
                (_cell(table, ("cell", i, j)), _link(table, report.level, report.period, i, j))
                for j in range(len(table.periods))
            ],
        )
        for i, area in enumerate(table.areas)
    ]
    title = page.t("surveillance.chart", infection=table.infection)
    return TableView(table.infection, table.periods, rows, _u_chart(table, f"chart-{index}", title))


async def surveillance(request: Request, page: Page) -> Response:
    level = _choice(page, "level", LEVELS, "hospital")
    period = _choice(page, "period", PERIODS, "month")
    report = await _report(page, level, period)
    return page.render(
        "surveillance.html",
        report=report,
        tables=[_view(page, report, table, i) for i, table in enumerate(report.tables)],
        signals=[s for s in report.signals if s.alarm],
        levels=LEVELS,
        periods=PERIODS,
        level=level,
        period=period,
        formats=_FORMATS,
    )


async def report_download(request: Request, page: Page) -> Response:
    fmt = request.path_params["format"]
    if fmt not in _FORMATS:
        raise InvalidRequest(f"format is one of {', '.join(_FORMATS)}", location=("format",))
    level = _choice(page, "level", LEVELS, "hospital")
    period = _choice(page, "period", PERIODS, "month")
    report = await _report(page, level, period)
    body, media = render(report, fmt)
    name = f"haiba-{level}-{period}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    patient: str
    sample: str
    sampled: str
    klass: str
    organisms: str
    place: str


async def episodes(request: Request, page: Page) -> Response:
    """The episodes behind one cell (drill-down): pseudonymous patient ids, samples, organisms and places."""
    level = _choice(page, "level", LEVELS, "hospital")
    period = _choice(page, "period", PERIODS, "month")
    infection = _choice(page, "infection", INFECTIONS, "bacteraemia")
    area, label = request.query_params.get("area", ""), request.query_params.get("label", "")
    if not area or not label:
        raise InvalidRequest("area and label are required", location=("area",))
    extract = await _extract(page)
    frame = await anyio.to_thread.run_sync(lambda: _episodes(extract, "haiba", infection, level, area, period, label))
    rows = [
        EpisodeRow(
            str(r["patient"]),
            str(r["sample_id"]),
            r["sampled_at"].strftime("%Y-%m-%d %H:%M"),
            str(r["class"]),
            str(r["organisms"] or ""),
            " / ".join(str(r[k]) for k in ("hospital", "department", "ward") if r.get(k)),
        )
        for r in frame.to_dicts()
    ]
    return page.render(
        "episodes.html", rows=rows, infection=infection, area=area, label=label, level=level, period=period
    )
