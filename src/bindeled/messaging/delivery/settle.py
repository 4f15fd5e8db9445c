"""What to do with letters after a round of delivery attempts: record delivery, retry later, or give up.

A round's outcomes are written in one transaction (on SQLite, one turn of the single writer instead of
one per letter), the delivered letters with one statement and their hops with another; the failure
alerts are raised after it committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from ...store.base import Store, Transaction, run_transaction
from ..hub.status import record_hops
from .policy import DeliveryPolicy
from .queue import Letter, alert, dead_in, delivered_all, retry_in
from .transport import Outcome

__all__ = ["Decision", "decide", "settle_all"]

Decision = Literal["delivered", "retry", "dead"]


def decide(policy: DeliveryPolicy, item: Letter, outcome: Outcome) -> Decision:
    """Delivered; retried after a transient error; dead after a fatal one or the last allowed attempt."""
    if outcome.result == "delivered":
        return "delivered"
    if outcome.result == "transient" and item.attempts < policy.max_attempts:
        return "retry"
    return "dead"


def _reason(item: Letter, outcome: Outcome) -> str:
    if outcome.result == "fatal":
        return outcome.error
    return f"{outcome.error}; gave up after {item.attempts} attempts"


async def settle_all(
    store: Store,
    policy: DeliveryPolicy,
    results: Sequence[tuple[Letter, Outcome]],
    now: datetime,
    *,
    retry_in_database: bool = True,
) -> list[Decision]:
    """Write the outcomes of one round; returns the decision per letter, in order.

    ``retry_in_database=False`` leaves retries to the caller (NATS naks the message with the delay).
    """
    failed: list[tuple[Letter, str]] = []

    async def work(tx: Transaction) -> list[Decision]:
        failed.clear()
        decisions = [decide(policy, item, outcome) for item, outcome in results]
        delivered = [
            (item, outcome.channel) for (item, outcome), d in zip(results, decisions, strict=True) if d == "delivered"
        ]
        hops = await delivered_all(tx, delivered, now, ack_timeout=policy.ack_timeout)
        for (item, outcome), decision in zip(results, decisions, strict=True):
            if decision == "retry":
                if retry_in_database:
                    await retry_in(tx, item, now, delay=policy.backoff(item.attempts), error=outcome.error)
            elif decision == "dead" and await dead_in(tx, item, now, _reason(item, outcome)):
                failed.append((item, _reason(item, outcome)))
        await record_hops(tx, hops)
        return decisions

    if not results:
        return []
    decisions = await run_transaction(store, work)
    for item, reason in failed:
        alert(item, reason)
    return decisions
