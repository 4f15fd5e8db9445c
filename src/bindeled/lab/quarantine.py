"""Quarantine: messages that could not be accepted, kept for an operator to inspect and replay.

Nothing is silently dropped: every message answered with ``AE`` or ``AR`` becomes a
:class:`QuarantineRecord` holding the raw bytes, the error (segment, sequence, field, HL7 code), when and
where it arrived, and its status. An operator lists the held records, reads the error, and replays the
message, optionally corrected; a replay that is accepted marks the record ``replayed``, one that fails
again keeps it ``held`` with the new error.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING

from bindeled.errors import NotFound
from bindeled.lab.hl7v2.ack import Ack, AckCode, AckError

if TYPE_CHECKING:
    from bindeled.lab.sink import ResultSink

__all__ = ["QuarantineRecord", "QuarantineStatus", "discard", "inspect", "new_record", "replay"]


class QuarantineStatus(Enum):
    HELD = "held"
    """Waiting for an operator."""
    REPLAYED = "replayed"
    """Replayed and accepted."""
    DISCARDED = "discarded"
    """An operator decided the message is not to be processed (kept for audit)."""


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One quarantined message. ``raw`` holds personal data: show it only to authorised operators."""

    id: str
    raw: bytes
    error: AckError
    received: datetime
    source: str
    """Where it came from: ``mllp``, ``file:<name>``, ``replay``."""
    control_id: str = ""
    status: QuarantineStatus = QuarantineStatus.HELD
    attempts: int = 0
    """How many times it has been replayed."""


def new_record(raw: bytes, ack: Ack, *, source: str, received: datetime) -> QuarantineRecord:
    """The record for a message answered with ``ack`` (which must carry an error)."""
    return QuarantineRecord(str(uuid.uuid4()), raw, ack.errors[0], received, source, ack.control_id)


async def inspect(sink: ResultSink, status: QuarantineStatus | None = QuarantineStatus.HELD) -> list[QuarantineRecord]:
    """The quarantined records with ``status`` (all when None), oldest first."""
    records = await sink.quarantined(status)
    return sorted(records, key=lambda r: (r.received, r.id))


async def replay(
    sink: ResultSink,
    record_id: str,
    *,
    corrected: bytes | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Ack:
    """Run a quarantined message (or an operator's corrected copy) through intake again."""
    from bindeled.lab.intake import process_er7  # intake builds quarantine records: import at call time

    record = await _get(sink, record_id)
    raw = corrected if corrected is not None else record.raw
    ack = await process_er7(raw, sink)
    attempts = record.attempts + 1
    if ack.code is AckCode.ACCEPT:
        updated = dataclasses.replace(record, raw=raw, status=QuarantineStatus.REPLAYED, attempts=attempts)
    else:
        updated = dataclasses.replace(record, raw=raw, error=ack.errors[0], received=now(), attempts=attempts)
    await sink.update_quarantine(updated)
    return ack


async def discard(sink: ResultSink, record_id: str) -> QuarantineRecord:
    """Mark a record as not to be processed; it stays for audit."""
    record = dataclasses.replace(await _get(sink, record_id), status=QuarantineStatus.DISCARDED)
    await sink.update_quarantine(record)
    return record


async def _get(sink: ResultSink, record_id: str) -> QuarantineRecord:
    record = await sink.quarantine_record(record_id)
    if record is None:
        raise NotFound("no such quarantine record", location=(record_id,))
    return record
