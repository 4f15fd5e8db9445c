"""The rest-hook notifications waiting to go out, kept in ``subscription_notification`` until they do.

A matching version is *claimed* once (one row per Subscription and resource version, so with several
server processes exactly one queues it) as ``pending``. A process *leases* a due row before calling the
receiver (so no other process calls at the same time), then marks it ``sent``, or records the failure
and moves every pending row of that Subscription to the next attempt (back-off), or ``dropped`` when
there is nothing to send any more. Rows outlive the process, so a restart loses nothing; a lease that
was never ended (a crash mid-call) runs out and the row is tried again.

Each Subscription's notifications go in the order they were claimed: while the oldest fails, the
others wait behind it. Rows that are done (``sent``, ``dropped``) are purged after a week
(:func:`purge_done`); only the claim matters after that, and a version that old is never read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ...store.base import Store, Transaction, run_transaction

__all__ = [
    "Queued",
    "backoff",
    "claim",
    "due_subscriptions",
    "lease",
    "mark_dropped",
    "mark_failed",
    "mark_sent",
    "pending_of",
    "purge_done",
    "stamp",
]


@dataclass(frozen=True, slots=True)
class Queued:
    """One pending notification."""

    subscription_id: str
    resource_type: str
    resource_id: str
    version_id: int
    attempts: int
    next_attempt: str


def stamp(moment: datetime) -> str:
    """A time as fixed-width UTC text, so the database compares it as text correctly."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def backoff(failures: int, first: float, most: float) -> timedelta:
    """The wait after ``failures`` failures in a row: ``first``, doubling, at most ``most`` seconds."""
    return timedelta(seconds=min(most, first * 2 ** min(max(failures - 1, 0), 32)))


_KEY = "subscription_id = $1 AND resource_type = $2 AND resource_id = $3 AND version_id = $4"
_BACKED_OFF = (
    "SELECT MAX(next_attempt) FROM subscription_notification"
    " WHERE subscription_id = $1 AND state = 'pending' AND attempts > 0"
)
_CLAIM = (
    "INSERT INTO subscription_notification"
    " (subscription_id, resource_type, resource_id, version_id, claimed, state, attempts, next_attempt)"
    " VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6) ON CONFLICT DO NOTHING RETURNING subscription_id"
)
_DUE = (
    "SELECT DISTINCT subscription_id FROM subscription_notification"
    " WHERE state = 'pending' AND next_attempt <= $1 AND lease < $1"
)
_PENDING = (
    "SELECT subscription_id, resource_type, resource_id, version_id, attempts, next_attempt"
    " FROM subscription_notification WHERE subscription_id = $1 AND state = 'pending'"
    " ORDER BY claimed, resource_type, resource_id, version_id LIMIT $2"
)
_LEASE = (
    f"UPDATE subscription_notification SET lease = $6 WHERE {_KEY}"
    " AND state = 'pending' AND next_attempt <= $5 AND lease < $5 RETURNING attempts"
)
_SENT = f"UPDATE subscription_notification SET state = 'sent', lease = '', last_error = NULL WHERE {_KEY}"
_RELEASE = (
    "UPDATE subscription_notification SET next_attempt = $2"
    " WHERE subscription_id = $1 AND state = 'pending' AND next_attempt > $2"
)
_FAILED = f"UPDATE subscription_notification SET attempts = attempts + 1, lease = '', last_error = $5 WHERE {_KEY}"
_WAIT = "UPDATE subscription_notification SET next_attempt = $2 WHERE subscription_id = $1 AND state = 'pending'"
_DROPPED = f"UPDATE subscription_notification SET state = 'dropped', lease = '', last_error = $5 WHERE {_KEY}"


def _key(item: Queued) -> tuple[str, str, str, int]:
    return (item.subscription_id, item.resource_type, item.resource_id, item.version_id)


async def claim(store: Store, subscription_id: str, resource_type: str, resource_id: str, version_id: int) -> bool:
    """Queue a notification; False when it is already queued (by this or another process)."""
    now = stamp(datetime.now(UTC))

    async def attempt(tx: Transaction) -> bool:
        waiting = await tx.fetch_all(_BACKED_OFF, (subscription_id,))
        first = max(now, str(waiting[0][0] or "")) if waiting else now  # behind a backlog that is backing off
        row = (subscription_id, resource_type, resource_id, version_id, now, first)
        return bool(await tx.fetch_all(_CLAIM, row))

    return await run_transaction(store, attempt)


async def due_subscriptions(store: Store, now: datetime) -> list[str]:
    """The Subscriptions with a notification ready to be tried."""
    return [str(row[0]) for row in await store.fetch_all(_DUE, (stamp(now),))]


async def pending_of(store: Store, subscription_id: str, limit: int = 100) -> list[Queued]:
    """A Subscription's pending notifications, oldest first."""
    rows = await store.fetch_all(_PENDING, (subscription_id, limit))
    return [Queued(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), str(r[5])) for r in rows]


async def _write(store: Store, sql: str, params: tuple[object, ...]) -> bool:
    async def attempt(tx: Transaction) -> bool:
        return bool(await tx.fetch_all(sql, params))

    return await run_transaction(store, attempt)


async def lease(store: Store, item: Queued, now: datetime, until: datetime) -> bool:
    """Take the row for one call (False: not due, or another process has it)."""
    return await _write(store, _LEASE, (*_key(item), stamp(now), stamp(until)))


async def mark_sent(store: Store, item: Queued, now: datetime) -> None:
    """Delivered: the Subscription's other pending rows need not wait any longer."""

    async def attempt(tx: Transaction) -> None:
        await tx.fetch_all(_SENT, _key(item))
        await tx.fetch_all(_RELEASE, (item.subscription_id, stamp(now)))

    await run_transaction(store, attempt)


async def mark_failed(store: Store, item: Queued, error: str, retry_at: datetime) -> None:
    """Failed: count it, and let the whole Subscription's queue wait until ``retry_at``."""

    async def attempt(tx: Transaction) -> None:
        await tx.fetch_all(_FAILED, (*_key(item), error))
        await tx.fetch_all(_WAIT, (item.subscription_id, stamp(retry_at)))

    await run_transaction(store, attempt)


async def mark_dropped(store: Store, item: Queued, reason: str) -> None:
    """Nothing to send any more (the version is gone, or its owner may no longer see it)."""
    await _write(store, _DROPPED, (*_key(item), reason))


_PURGE = "DELETE FROM subscription_notification WHERE state IN ('sent', 'dropped') AND claimed < $1"


async def purge_done(store: Store, before: datetime) -> None:
    """Forget the notifications done before ``before``."""
    await _write(store, _PURGE, (stamp(before),))
