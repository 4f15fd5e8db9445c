"""The server worker counts the audit trail into the overview-use aggregate without any page view."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bindeled.indicators.overview_use_store import OverviewUseAggregate
from bindeled.indicators.worker import overview_use_counter
from bindeled.security.audit import build_audit_event
from bindeled.security.audit_store import SqlAuditSink
from bindeled.security.principal import Principal
from bindeled.store.base import Store

pytestmark = pytest.mark.anyio

UNIT = "12559999999100"


async def test_the_worker_catches_up_from_start(store: Store) -> None:
    sink = SqlAuditSink(store)
    principal = Principal(
        user_type="hcp", user_id="u1", full_name="Nanna", organisation_sor=UNIT, purpose="ESP_PLANS", role="nurse"
    )
    event = build_audit_event(
        interaction="read", recorded=datetime(2026, 11, 9, 10, tzinfo=UTC), outcome="0", principal=principal
    )
    await sink.append([event] * 3, [], recorded=datetime(2026, 11, 9, tzinfo=UTC))
    head = (await sink.chain_state()).head_seq
    aggregate = OverviewUseAggregate(store)
    services: Any = SimpleNamespace(store=store, gate=SimpleNamespace(sink=sink))
    async with overview_use_counter(services):
        for _ in range(600):  # wait for the first round (no assertion on how long it takes)
            if await aggregate.cursor() >= head:
                break
            await asyncio.sleep(0.05)
    assert await aggregate.cursor() >= head
    assert (await aggregate.per_unit((date(2026, 11, 9), date(2026, 11, 10))))[UNIT] >= 3


async def test_without_the_gate_there_is_nothing_to_count(store: Store) -> None:
    services: Any = SimpleNamespace(store=store, gate=None)
    async with overview_use_counter(services):
        pass
    assert await OverviewUseAggregate(store).cursor() == 0
