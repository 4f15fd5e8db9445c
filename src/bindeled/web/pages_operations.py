"""The operators' page: message traffic per type, dead letters with replay, and service health.

Traffic and dead letters come from the message hub's outbox (``messaging/delivery``); replay queues a
dead letter again exactly as ``POST /fhir/$replay-dead-letter`` does, recording the operator. Health
is this process's own request metrics (the same numbers ``/metrics`` exports). The operator is
authenticated and audited through the gate; none of this is a citizen's data.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidRequest, NotFound
from ..messaging.delivery.deadletters import dead_letters, replay
from ..messaging.delivery.statistics import delivery_statistics
from ..store.base import utc_now
from .access import data_access
from .framework import Page
from .metrics import ServiceMetrics

__all__ = ["operations", "replay_letter"]

_OPERATOR = "operator"


def _period(page: Page) -> tuple[date, date]:
    params = page.request.query_params
    today = datetime.now(UTC).date()
    try:
        start = date.fromisoformat(params["from"]) if params.get("from") else today - timedelta(days=6)
        last = date.fromisoformat(params["to"]) if params.get("to") else today
    except ValueError:
        raise InvalidRequest("Dates are YYYY-MM-DD", details_code="bad_date") from None
    if last < start:
        raise InvalidRequest("The period ends before it starts", details_code="bad_date")
    return start, last


async def operations(request: Request, page: Page) -> Response:
    page.require(_OPERATOR, refusal="not_operator")
    start, last = _period(page)
    store = page.services.store
    async with data_access(request, page.session, interaction="search"):
        traffic = await delivery_statistics(
            store,
            start=datetime.combine(start, time.min, UTC),
            end=datetime.combine(last + timedelta(days=1), time.min, UTC),
        )
        letters = await dead_letters(store, limit=100)
    metrics: ServiceMetrics = request.app.state.metrics
    health = metrics.summary()[:15]
    uptime = int(clock.time() - metrics.started)
    return page.render(
        "operations.html",
        traffic=traffic,
        letters=letters,
        health=health,
        uptime=uptime,
        period=(start.isoformat(), last.isoformat()),
    )


async def replay_letter(request: Request, page: Page) -> Response:
    principal = page.require(_OPERATOR, refusal="not_operator")
    form = await page.form()
    message_id = str(form.get("message_id", ""))
    is_ack = form.get("acknowledgement") == "true"
    if not message_id:
        raise InvalidRequest("Which letter to replay is missing", location=("message_id",))
    async with data_access(request, page.session, interaction="update"):
        done = await replay(
            page.services.store, message_id, is_acknowledgement=is_ack, now=utc_now(), operator=principal.pseudonym()
        )
    if not done:
        raise NotFound("No such dead letter")
    return page.redirect("/operations", flash="operations.replayed")
