"""The operators' indicator page: use of the overview, and message traffic, per municipality (table, plot, CSV).

Use of the overview comes from the incrementally maintained aggregate of the audit trail
(``indicators/overview_use_store.py``): a page view counts only the audit records written since the
previous one, then sums the period's daily counts in SQL. Message traffic and delivery and
acknowledgement times come from the hub's delivery statistics rolled up to municipalities through
the SOR register. The register's Organizations are read as the logged-in operator through the gate
(operators see no citizen's data; none of these sources holds any). Small cells are suppressed and
marked (``indicators/record.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest
from ..indicators import SUPPRESSION_THRESHOLD, Indicator, MunicipalityIndex, to_csv
from ..indicators.message_traffic import OUTSIDE, TrafficRow, traffic_csv, traffic_rows
from ..indicators.overview_use import overview_use_cells
from ..indicators.overview_use_store import OverviewUseAggregate
from ..indicators.sor_tree import read_organizations, sor_tree_from_organizations
from ..messaging.delivery.statistics import delivery_statistics
from ..registry.lookup import SorLookup
from .access import data_access
from .framework import Page
from .svg import bar_chart

__all__ = ["indicators", "indicators_csv", "traffic_csv_download"]


@dataclass(frozen=True, slots=True)
class _Figures:
    period: tuple[date, date]
    overview_use: list[Indicator]
    traffic: list[TrafficRow]


def _period(page: Page) -> tuple[date, date]:
    params = page.request.query_params
    today = datetime.now(UTC).date()
    try:
        start = date.fromisoformat(params["from"]) if params.get("from") else today.replace(day=1)
        end = date.fromisoformat(params["to"]) + timedelta(days=1) if params.get("to") else today + timedelta(days=1)
    except ValueError:
        raise InvalidRequest("Dates are YYYY-MM-DD", details_code="bad_date") from None
    if end <= start:
        raise InvalidRequest("The period ends before it starts", details_code="bad_date")
    return start, end


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


async def _figures(page: Page) -> _Figures:
    page.require("operator", refusal="not_operator")
    period = _period(page)
    svc = page.services
    assert svc.gate is not None
    aggregate = OverviewUseAggregate(svc.store)
    await aggregate.catch_up(svc.gate.sink.records)
    async with data_access(page.request, page.session, interaction="search"):
        organizations = await read_organizations(svc.repo)
        per_unit = await aggregate.per_unit(period)
        lookup = SorLookup(sor_tree_from_organizations(organizations))
        figures = await delivery_statistics(
            svc.store, start=_instant(period[0]), end=_instant(period[1]), by="municipality", register=lookup
        )
    index = MunicipalityIndex.from_organizations(organizations)
    names = dict(index.municipalities())
    outside = page.t("indicators.outside")

    def name_of(code: str) -> str:
        return outside if code == OUTSIDE else names.get(code, code)

    use = overview_use_cells(per_unit, index.municipality_of, period, index.municipalities())
    return _Figures(period, use, traffic_rows(figures, name_of, period))


async def indicators(request: Request, page: Page) -> Response:
    found = await _figures(page)
    bars = [(c.geography_name, c.value) for c in found.overview_use]
    start, end = found.period
    return page.render(
        "indicators.html",
        cells=found.overview_use,
        traffic=found.traffic,
        plot=bar_chart(bars, page.t("indicators.plot")),
        period=(start.isoformat(), (end - timedelta(days=1)).isoformat()),
        threshold=SUPPRESSION_THRESHOLD,
    )


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def indicators_csv(request: Request, page: Page) -> Response:
    return _csv(to_csv((await _figures(page)).overview_use), "overview-use.csv")


async def traffic_csv_download(request: Request, page: Page) -> Response:
    return _csv(traffic_csv((await _figures(page)).traffic), "message-traffic.csv")
