"""The operators' indicator page: use of the overview per municipality, as a table, a plot and CSV.

The counts come from the audit trail and the SOR register's Organizations, read as the logged-in
operator through the gate (operators see no citizen's data; neither source holds any). Small cells
are suppressed and marked (``indicators/record.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest
from ..fhir.jsonio import Resource
from ..indicators import SUPPRESSION_THRESHOLD, Indicator, MunicipalityIndex, overview_use, to_csv
from .access import data_access
from .framework import Page
from .svg import bar_chart

__all__ = ["indicators", "indicators_csv"]

_PAGE = 1000


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


async def _cells(page: Page) -> tuple[list[Indicator], tuple[date, date]]:
    page.require("operator", refusal="not_operator")
    period = _period(page)
    gate = page.services.gate
    assert gate is not None
    organizations: list[Resource] = []
    events: list[Resource] = []
    async with data_access(page.request, page.session, interaction="search"):
        offset = 0
        while True:
            params = [("_count", str(_PAGE)), ("_offset", str(offset))]
            _req, result = await page.services.repo.search("Organization", params)
            organizations += [r.resource() for r in result.resources]
            if result.next_offset is None or not result.resources:
                break
            offset = result.next_offset
        after = 0
        while True:
            records = await gate.sink.records(after, _PAGE)
            events += [r.event() for r in records]
            if len(records) < _PAGE:
                break
            after = records[-1].seq
    index = MunicipalityIndex.from_organizations(organizations)
    return overview_use(events, index.municipality_of, period, index.municipalities()), period


async def indicators(request: Request, page: Page) -> Response:
    cells, period = await _cells(page)
    bars = [(c.geography_name, c.value) for c in cells]
    return page.render(
        "indicators.html",
        cells=cells,
        plot=bar_chart(bars, page.t("indicators.plot")),
        period=(period[0].isoformat(), (period[1] - timedelta(days=1)).isoformat()),
        threshold=SUPPRESSION_THRESHOLD,
    )


async def indicators_csv(request: Request, page: Page) -> Response:
    cells, _period_used = await _cells(page)
    return Response(
        to_csv(cells),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="overview-use.csv"'},
    )
