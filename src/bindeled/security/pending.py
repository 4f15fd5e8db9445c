"""Pending-verification flags: accesses allowed without a registered treatment relation, kept for follow-up.

In lenient mode the policy lets a health professional in without treatment-relation evidence but flags
the decision ``pending_verification`` (§42a: the access must be justified afterwards). The session
collects one :class:`PendingAccess` per citizen per request; the audit sink stores them with the
request's audit records (inside a write's transaction, or write-behind for reads), merged to one row
per day, user, citizen and purpose with a count. Operators and administrators list the open ones and
mark them resolved (``GET/PUT /fhir/$pending-verifications``); the number of open flags is the alert
counter. The API shows the citizen's Patient reference, never the CPR number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

from ..store.base import Store, Transaction
from ..store.sql_params import chunks, values_clause
from .audit import format_instant
from .principal import Principal

__all__ = ["PendingAccess", "PendingStore", "pending_access", "write_pending"]

log = logging.getLogger("bindeled.security")

_INSERT = (
    "INSERT INTO security_pending_verification (day, user_key, citizen, purpose, patient_ref, organisation_sor,"
    " first_seen, last_seen, accesses, body) VALUES "
)
_ON_CONFLICT = (
    " ON CONFLICT (day, user_key, citizen, purpose) DO UPDATE SET last_seen = excluded.last_seen,"
    " accesses = security_pending_verification.accesses + excluded.accesses,"
    " patient_ref = COALESCE(security_pending_verification.patient_ref, excluded.patient_ref)"
)
_COLUMNS = "id, patient_ref, purpose, organisation_sor, first_seen, last_seen, accesses, resolved_at, resolution, body"


class _Who(msgspec.Struct, frozen=True):
    """Who accessed: enough to follow up, nothing about the citizen."""

    user_id: str
    issuer: str
    user_type: str
    role: str | None
    authorisation_id: str | None
    system_name: str | None
    correlation_id: str


@dataclass(frozen=True, slots=True)
class PendingAccess:
    """One citizen's data reached in one request without treatment-relation evidence."""

    citizen: str
    patient_ref: str | None
    purpose: str
    organisation_sor: str | None
    time: datetime
    who: _Who


def pending_access(
    principal: Principal, citizen: str, patient_ref: str | None, time: datetime, correlation_id: str
) -> PendingAccess:
    who = _Who(
        principal.user_id,
        principal.issuer,
        principal.user_type,
        principal.role,
        principal.authorisation_id,
        principal.system_name,
        correlation_id,
    )
    return PendingAccess(citizen, patient_ref, principal.purpose or "", principal.organisation_sor, time, who)


def _merged(flags: Sequence[PendingAccess]) -> list[tuple[Any, ...]]:
    """One row per day, user, citizen and purpose (one statement may not upsert the same row twice)."""
    rows: dict[tuple[str, str, str, str], list[Any]] = {}
    for flag in flags:
        key = (format_instant(flag.time)[:10], f"{flag.who.issuer}|{flag.who.user_id}", flag.citizen, flag.purpose)
        when = format_instant(flag.time)
        row = rows.get(key)
        if row is None:
            body = msgspec.json.encode(flag.who)
            rows[key] = [*key, flag.patient_ref, flag.organisation_sor, when, when, 1, body]
            continue
        row[4] = row[4] or flag.patient_ref
        row[6], row[7], row[8] = min(row[6], when), max(row[7], when), row[8] + 1
    return [tuple(row) for row in rows.values()]


async def write_pending(tx: Transaction, flags: Sequence[PendingAccess]) -> None:
    """Store flags inside ``tx`` (the audit sink calls this with the request's audit records)."""
    for batch in chunks(_merged(flags)):
        params = [value for row in batch for value in row]
        await tx.fetch_all(_INSERT + values_clause(len(batch), 10) + _ON_CONFLICT, params)
    if flags:
        log.debug("access allowed pending treatment-relation verification", extra={"flags": len(flags)})


Status = Literal["open", "resolved", "all"]


def _view(row: tuple[Any, ...]) -> dict[str, Any]:
    id_, patient_ref, purpose, sor, first, last, accesses, resolved_at, resolution, body = row
    view: dict[str, Any] = {
        "id": str(id_),
        "patient": patient_ref,
        "purpose": purpose,
        "organisation_sor": sor,
        "first_seen": first,
        "last_seen": last,
        "accesses": int(accesses),
        "status": "resolved" if resolved_at else "open",
        "accessed_by": msgspec.json.decode(bytes(body)),
    }
    if resolved_at:
        view |= {"resolved_at": resolved_at, "resolution": resolution}
    return view


class PendingStore:
    """The flags' table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def open_count(self) -> int:
        rows = await self.store.fetch_all(
            "SELECT COUNT(*) FROM security_pending_verification WHERE resolved_at IS NULL"
        )
        return int(rows[0][0])

    async def listing(self, status: Status = "open", limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        where = {"open": " WHERE resolved_at IS NULL", "resolved": " WHERE resolved_at IS NOT NULL", "all": ""}[status]
        rows = await self.store.fetch_all(
            f"SELECT {_COLUMNS} FROM security_pending_verification{where} ORDER BY id LIMIT $1 OFFSET $2",
            (limit, offset),
        )
        return [_view(tuple(r)) for r in rows]

    async def get(self, id: int) -> dict[str, Any] | None:
        rows = await self.store.fetch_all(f"SELECT {_COLUMNS} FROM security_pending_verification WHERE id = $1", (id,))
        return _view(tuple(rows[0])) if rows else None

    async def resolve(self, id: int, resolution: str, now: datetime) -> bool:
        """Mark a flag followed up; False if there is no such flag."""
        async with self.store.transaction() as tx:
            found = await tx.fetch_all("SELECT 1 FROM security_pending_verification WHERE id = $1", (id,))
            if found:
                await tx.fetch_all(
                    "UPDATE security_pending_verification SET resolved_at = $1, resolution = $2 WHERE id = $3",
                    (format_instant(now), resolution, id),
                )
        return bool(found)
