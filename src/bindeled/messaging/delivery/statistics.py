"""Numbers for the indicators: letters, delivery and acknowledgement times per type, sender and receiver.

Read from the outbox over a period (letters *received* in ``[start, end)``). Times run from receipt
(the row was queued in the receiving transaction) to the first delivery and to the receiver's
Acknowledgement. Parties are named by GLN, or rolled up to the municipality (kommunekode) of the SOR
entity that defines the GLN, via the SOR register (:class:`~bindeled.registry.lookup.SorLookup`);
a GLN the register does not know, or one outside any municipality (a hospital, a practice), is
grouped as ``"-"``. Percentiles use the nearest-rank method; a group without any time has None.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ...registry.lookup import SorLookup
from ...store._records import format_instant, parse_instant
from ...store.base import Store

__all__ = ["DeliveryFigures", "delivery_statistics", "percentile"]

NO_MUNICIPALITY = "-"

_ROWS = """
SELECT message_type, sender_gln, receiver_gln, state, enqueued, delivered_at, acknowledged_at, copies, last_error
FROM hub_outbox WHERE enqueued >= $1 AND enqueued < $2"""


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    """The figures of one (message type, sender, receiver) group."""

    message_type: str
    sender: str
    """Sender GLN, or its municipality code when rolled up."""
    receiver: str
    letters: int
    delivered: int
    acknowledged: int
    failed: int
    delivery_p50: float | None
    """Seconds from receipt to first delivery, median."""
    delivery_p99: float | None
    acknowledgement_p50: float | None
    """Seconds from receipt to the receiver's Acknowledgement, median."""
    acknowledgement_p99: float | None
    resent: int = 0
    """Letters sent again in a new envelope (no Acknowledgement in time)."""
    retrying: int = 0
    """Letters waiting for another attempt after a failed one (receiver down, transient error)."""


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (``fraction`` in (0, 1]) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class _Group:
    letters: int = 0
    delivered: int = 0
    acknowledged: int = 0
    failed: int = 0
    resent: int = 0
    retrying: int = 0
    delivery: list[float] = field(default_factory=list)
    acknowledgement: list[float] = field(default_factory=list)


def _seconds(start: datetime, end: str) -> float | None:
    return (parse_instant(end) - start).total_seconds() if end else None


async def delivery_statistics(
    store: Store,
    *,
    start: datetime,
    end: datetime,
    by: Literal["party", "municipality"] = "party",
    register: SorLookup | None = None,
) -> list[DeliveryFigures]:
    """Figures per (message type, sender, receiver) for letters received in ``[start, end)``."""
    if by == "municipality" and register is None:
        raise ValueError("rolling up to municipalities needs the SOR register")
    rows = await store.fetch_all(_ROWS, (format_instant(start), format_instant(end)))
    municipality: dict[str, str] = {}

    def party(gln: str) -> str:
        if by == "party" or register is None:
            return gln
        if gln not in municipality:
            entity = register.by_gln(gln)
            code = register.municipality_of(entity.sor_code) if entity is not None else None
            municipality[gln] = code or NO_MUNICIPALITY
        return municipality[gln]

    groups: dict[tuple[str, str, str], _Group] = defaultdict(_Group)
    for kind, sender, receiver, state, enqueued, delivered_at, acknowledged_at, copies, last_error in rows:
        group = groups[(str(kind), party(str(sender)), party(str(receiver)))]
        received = parse_instant(str(enqueued))
        group.letters += 1
        group.failed += state == "dead"
        group.resent += int(copies) > 1
        group.retrying += state == "pending" and bool(last_error)
        for times, end_text in ((group.delivery, str(delivered_at)), (group.acknowledgement, str(acknowledged_at))):
            took = _seconds(received, end_text)
            if took is not None:
                times.append(took)
        group.delivered += bool(delivered_at)
        group.acknowledged += bool(acknowledged_at)
    return [
        DeliveryFigures(
            kind,
            sender,
            receiver,
            g.letters,
            g.delivered,
            g.acknowledged,
            g.failed,
            percentile(g.delivery, 0.5),
            percentile(g.delivery, 0.99),
            percentile(g.acknowledgement, 0.5),
            percentile(g.acknowledgement, 0.99),
            g.resent,
            g.retrying,
        )
        for (kind, sender, receiver), g in sorted(groups.items())
    ]
