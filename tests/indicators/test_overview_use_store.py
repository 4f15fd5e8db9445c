"""The incrementally maintained overview-use aggregate: counts once, only new records, never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bindeled.indicators.overview_use_store import OverviewUseAggregate
from bindeled.security.audit import AuditRecord, build_audit_event
from bindeled.security.audit_store import SqlAuditSink
from bindeled.security.principal import Principal
from bindeled.store.base import Store

pytestmark = pytest.mark.anyio

HOME_NURSING, MEDICAL = "12559999999100", "10079999999100"


def _event(unit: str, purpose: str, day: int, outcome: str = "0") -> dict[str, object]:
    principal = Principal(
        user_type="hcp", user_id="u1", full_name="Nanna", organisation_sor=unit, purpose=purpose, role="nurse"
    )
    return build_audit_event(
        interaction="read",
        recorded=datetime(2026, 11, day, 10, tzinfo=UTC),
        outcome=outcome,  # type: ignore[arg-type]
        principal=principal,
    )


class _Counting:
    """The audit sink's ``records``, remembering how many records each catch-up read."""

    def __init__(self, sink: SqlAuditSink) -> None:
        self.sink = sink
        self.read = 0

    async def __call__(self, after: int, limit: int) -> list[AuditRecord]:
        found = await self.sink.records(after, limit)
        self.read += len(found)
        return found


async def _append(sink: SqlAuditSink, events: list[dict[str, object]]) -> None:
    await sink.append(events, [], recorded=datetime(2026, 11, 20, tzinfo=UTC))


async def test_counts_overview_requests_per_day_and_unit_and_reads_only_new_records(store: Store) -> None:
    sink = SqlAuditSink(store)
    start = (await sink.chain_state()).head_seq
    aggregate = OverviewUseAggregate(store, batch=3)
    await aggregate.catch_up(sink.records)  # earlier tests' records on a shared database: counted before we start
    before = await aggregate.per_unit((date(2026, 11, 1), date(2026, 12, 1)))
    await _append(
        sink,
        [
            _event(HOME_NURSING, "ESP_APPOINTMENTS", 2),
            _event(HOME_NURSING, "ESP_STAMKORT", 3),
            _event(MEDICAL, "ESP_PLANS", 3),
            _event(MEDICAL, "LAB_READ", 3),  # not an overview purpose
            _event(MEDICAL, "ESP_PLANS", 4, outcome="8"),  # refused
        ],
    )
    counting = _Counting(sink)
    assert await aggregate.catch_up(counting) == 5 and counting.read == 5
    assert await aggregate.cursor() >= start + 5
    after = await aggregate.per_unit((date(2026, 11, 1), date(2026, 12, 1)))
    assert after.get(HOME_NURSING, 0) - before.get(HOME_NURSING, 0) == 2
    assert after.get(MEDICAL, 0) - before.get(MEDICAL, 0) == 1
    only_third = await aggregate.per_unit((date(2026, 11, 3), date(2026, 11, 4)))
    assert only_third.get(HOME_NURSING, 0) - before.get(HOME_NURSING, 0) <= 1
    again = _Counting(sink)
    await aggregate.catch_up(again)
    assert again.read == 0  # nothing new: the chain is not read again
    await _append(sink, [_event(MEDICAL, "ESP_APPOINTMENTS", 5)])
    await aggregate.catch_up(again)
    assert again.read == 1
    final = await aggregate.per_unit((date(2026, 11, 1), date(2026, 12, 1)))
    assert final.get(MEDICAL, 0) - before.get(MEDICAL, 0) == 2


async def test_two_counters_catching_up_at_once_never_count_twice(store: Store) -> None:
    sink = SqlAuditSink(store)
    first, second = OverviewUseAggregate(store), OverviewUseAggregate(store)
    await first.catch_up(sink.records)
    period = (date(2026, 11, 1), date(2026, 12, 1))
    before = await first.per_unit(period)
    await _append(sink, [_event(HOME_NURSING, "ESP_PLANS", 7) for _ in range(4)])

    async def racing(after: int, limit: int) -> list[AuditRecord]:
        found = await sink.records(after, limit)
        if found:
            await second.catch_up(sink.records)  # another process counts the same records meanwhile
        return found

    await first.catch_up(racing)
    after = await first.per_unit(period)
    assert after.get(HOME_NURSING, 0) - before.get(HOME_NURSING, 0) == 4
    assert await first.cursor() == (await sink.chain_state()).head_seq
