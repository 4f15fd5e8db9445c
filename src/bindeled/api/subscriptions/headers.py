"""A Subscription's ``channel.header`` lines are secrets: kept beside it, never in its stored versions.

A receiver usually wants a bearer token in ``channel.header``. The stored resource (every version, and
so every read, history, search, include and export) carries each line as ``Name: [redacted]``; the
lines themselves are kept in ``subscription_header``, written by the create and update routes in the
Subscription's own transaction, and put back only in the owner's own read and in the rest-hook calls.
An update that sends a redacted line back keeps that header's value, so reading a Subscription and
writing it back does not lose its secret.
"""

from __future__ import annotations

import copy

import msgspec

from ...fhir.jsonio import Resource
from ...store.base import Store, Transaction
from ...store.guard import SystemGuard
from ...store.repository import PendingWrite

__all__ = [
    "REDACTED",
    "forget_lines",
    "lines_of",
    "redact_other_writes",
    "redacted",
    "restored",
    "save_lines",
    "with_previous",
]

REDACTED = "[redacted]"

_UPSERT = (
    "INSERT INTO subscription_header (subscription_id, lines) VALUES ($1, $2)"
    " ON CONFLICT (subscription_id) DO UPDATE SET lines = excluded.lines"
)
_SELECT = "SELECT lines FROM subscription_header WHERE subscription_id = $1"


def _header_lines(body: Resource) -> list[str]:
    channel = body.get("channel")
    found = channel.get("header") if isinstance(channel, dict) else None
    return [str(line) for line in found] if isinstance(found, list) else []


def _redact(line: str) -> str:
    name, colon, _ = line.partition(":")
    return f"{name.strip()}: {REDACTED}" if colon and name.strip() else REDACTED


def redacted(body: Resource) -> tuple[Resource, list[str]]:
    """``body`` with every header line's value redacted, and the lines as sent."""
    lines = _header_lines(body)
    if not lines:
        return body, []
    safe = copy.deepcopy(body)
    safe["channel"]["header"] = [_redact(line) for line in lines]
    return safe, lines


def with_previous(lines: list[str], previous: list[str]) -> list[str]:
    """``lines`` with a redacted value (``Name: [redacted]``) replaced by that header's previous line."""
    before = {line.partition(":")[0].strip().lower(): line for line in previous}
    kept: list[str] = []
    for line in lines:
        name, _, value = line.partition(":")
        old = before.get(name.strip().lower())
        kept.append(old if value.strip() == REDACTED and old is not None else line)
    return kept


def restored(body: Resource, lines: list[str]) -> Resource:
    """``body`` with its header lines put back (for the owner and the rest-hook calls)."""
    if not lines:
        return body
    full = copy.deepcopy(body)
    full.setdefault("channel", {})["header"] = list(lines)
    return full


async def save_lines(tx: Transaction, subscription_id: str, lines: list[str]) -> None:
    await tx.fetch_all(_UPSERT, (subscription_id, msgspec.json.encode(lines).decode()))


async def lines_of(store: Store | Transaction, subscription_id: str) -> list[str] | None:
    """The kept lines; None for a Subscription not written through the routes (its body holds its own)."""
    rows = await store.fetch_all(_SELECT, (subscription_id,))
    if not rows:
        return None
    return [str(line) for line in msgspec.json.decode(str(rows[0][0]))]


async def forget_lines(tx: Transaction, subscription_id: str) -> None:
    """Drop the lines of a deleted Subscription (a later create-on-update under its id starts afresh)."""
    await tx.fetch_all("DELETE FROM subscription_header WHERE subscription_id = $1", (subscription_id,))


async def redact_other_writes(pending: PendingWrite) -> Resource | None:
    """A write rule: a Subscription written any other way than the routes (a transaction Bundle) keeps no secret.

    The routes write as the system and keep the lines beside the Subscription; any other writer's
    header lines are stored redacted (such a Subscription has no owner and never notifies anyway).
    """
    if pending.resource_type != "Subscription" or pending.after is None or isinstance(pending.guard, SystemGuard):
        return None
    safe, lines = redacted(pending.after)
    return safe if lines else None
