"""The indicators' numbers: counts and delivery/acknowledgement times per type and party, per municipality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.messaging.delivery.outbox import enqueue, on_receiver_acknowledgement
from bindeled.messaging.delivery.queue import claim_due, mark_dead, mark_delivered, resend_overdue, retry_in
from bindeled.messaging.delivery.statistics import DeliveryFigures, delivery_statistics, percentile
from bindeled.registry.lookup import SorLookup
from bindeled.registry.synthetic import synthetic_region
from bindeled.registry.tree import SorTree
from bindeled.store.base import Store
from tests.messaging.delivery.conftest import letter

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOSPITAL = "0290000000036"  # Akutafdelingen, Odense (synthetic SOR register)
ASSENS_NORTH, ASSENS_SOUTH = "0290000000586", "0290000000593"  # two Assens home-care units (kommune 0420)


async def _letter(
    store: Store, receiver: str, *, delivered: float | None, acked: float | None, dead: bool = False
) -> None:
    item = letter(receiver=receiver)
    item = type(item)(item.message_id, item.envelope_id, item.message_type, HOSPITAL, receiver, item.payload, False)
    async with store.transaction() as tx:
        await enqueue(tx, item, at=T0)
    (claimed,) = await claim_due(store, T0, limit=1, lease=timedelta(minutes=1))
    if delivered is not None:
        at = T0 + timedelta(seconds=delivered)
        await mark_delivered(store, claimed, at, channel="push", ack_timeout=timedelta(minutes=30))
    if acked is not None:
        async with store.transaction() as tx:
            await on_receiver_acknowledgement(tx, item.message_id, "ok", at=T0 + timedelta(seconds=acked))
    if dead:
        await mark_dead(store, claimed, T0 + timedelta(seconds=60), reason="receiver answered HTTP 400")


async def test_figures_per_party_and_per_municipality(store: Store) -> None:
    await _letter(store, ASSENS_NORTH, delivered=2, acked=10)
    await _letter(store, ASSENS_NORTH, delivered=4, acked=None)
    await _letter(store, ASSENS_SOUTH, delivered=None, acked=None, dead=True)
    period = {"start": T0, "end": T0 + timedelta(days=1)}

    by_party = await delivery_statistics(store, **period)
    kind = "hospital-notification-message"
    assert by_party == [
        DeliveryFigures(kind, HOSPITAL, ASSENS_NORTH, 2, 2, 1, 0, 2.0, 4.0, 10.0, 10.0),
        DeliveryFigures(kind, HOSPITAL, ASSENS_SOUTH, 1, 0, 0, 1, None, None, None, None),
    ]
    register = SorLookup(SorTree.from_export(synthetic_region()))
    by_municipality = await delivery_statistics(store, **period, by="municipality", register=register)
    assert by_municipality == [DeliveryFigures(kind, "-", "0420", 3, 2, 1, 1, 2.0, 4.0, 10.0, 10.0)]

    assert await delivery_statistics(store, start=T0 + timedelta(seconds=1), end=T0 + timedelta(days=1)) == []
    with pytest.raises(ValueError):
        await delivery_statistics(store, **period, by="municipality")


async def test_letters_sent_again_and_letters_waiting_after_a_failure_are_counted(store: Store) -> None:
    await _letter(store, ASSENS_NORTH, delivered=2, acked=None)  # never acknowledged: resent
    await _letter(store, ASSENS_NORTH, delivered=None, acked=None)  # claimed, then the push fails
    (failing,) = await claim_due(store, T0 + timedelta(minutes=2), limit=1, lease=timedelta(minutes=1))
    async with store.transaction() as tx:
        await retry_in(tx, failing, T0, delay=timedelta(seconds=30), error="connection failed")
    assert await resend_overdue(store, T0 + timedelta(hours=1), max_resends=3) == 1

    (figures,) = await delivery_statistics(store, start=T0, end=T0 + timedelta(days=1))
    assert (figures.letters, figures.delivered, figures.resent, figures.retrying, figures.failed) == (2, 1, 1, 1, 0)


def test_percentile_uses_the_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0
    assert percentile([5.0], 0.99) == 5.0


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1), st.floats(0.01, 1.0))
def test_a_percentile_is_one_of_the_values_and_grows_with_the_fraction(values: list[float], fraction: float) -> None:
    found = percentile(values, fraction)
    assert found in values
    lower = percentile(values, fraction / 2)
    assert found is not None and lower is not None and lower <= found <= max(values)
    assert percentile(values, 1.0) == max(values)
