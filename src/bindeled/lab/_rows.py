"""Rows of the lab tables (``0006_lab.sql``) ↔ :class:`MappedResult` and :class:`QuarantineRecord`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from bindeled.fhir import jsonio
from bindeled.lab.hl7v2.ack import AckError
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation
from bindeled.lab.hl7v2.oru_r01 import MappedResult, ResultKey
from bindeled.lab.quarantine import QuarantineRecord, QuarantineStatus

__all__ = [
    "QUARANTINE_COLUMNS",
    "VERSION_COLUMNS",
    "instant",
    "quarantine_from_row",
    "quarantine_row",
    "version_from_row",
    "version_row",
]

VERSION_COLUMNS = "laboratory, sample_number, analysis, control_id, status, message_time, received, outcome, body"
QUARANTINE_COLUMNS = "id, received, source, control_id, status, attempts, error, raw"


def instant(moment: datetime) -> str:
    """UTC, fixed width, so that text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def version_row(result: MappedResult, received: datetime, outcome: str) -> tuple[Any, ...]:
    """The ``lab_result_version`` row of one incoming version (the mapped resources as received)."""
    body = {
        "patient": result.patient,
        "resources": list(result.resources),
        "unmapped": list(result.unmapped),
        "displayRefused": result.display_refused,
    }
    key = result.key
    return (
        key.laboratory,
        key.sample_number,
        key.analysis,
        result.control_id,
        result.status,
        result.message_time.isoformat(),
        instant(received),
        outcome,
        jsonio.encode(body),
    )


def version_from_row(row: tuple[Any, ...]) -> MappedResult:
    laboratory, sample, analysis, control_id, status, message_time, _received, _outcome, body = row
    data = jsonio.decode_stored(bytes(body))
    return MappedResult(
        ResultKey(str(laboratory), str(sample), str(analysis)),
        str(status),
        datetime.fromisoformat(str(message_time)),
        str(control_id),
        data["patient"],
        tuple(data["resources"]),
        tuple(data.get("unmapped") or ()),
        bool(data.get("displayRefused")),
    )


def quarantine_row(record: QuarantineRecord) -> tuple[Any, ...]:
    where = record.error.where
    error = {
        "segment": where.segment_id,
        "sequence": where.sequence,
        "field": where.field,
        "repetition": where.repetition,
        "component": where.component,
        "subcomponent": where.subcomponent,
        "code": record.error.code.name,
        "text": record.error.text,
    }
    return (
        record.id,
        instant(record.received),
        record.source,
        record.control_id,
        record.status.value,
        record.attempts,
        msgspec.json.encode(error).decode(),
        record.raw,
    )


def quarantine_from_row(row: tuple[Any, ...]) -> QuarantineRecord:
    record_id, received, source, control_id, status, attempts, error_text, raw = row
    error = msgspec.json.decode(str(error_text))
    where = ErrorLocation(
        error["segment"],
        error["sequence"],
        error["field"],
        error["repetition"],
        error["component"],
        error["subcomponent"],
    )
    return QuarantineRecord(
        id=str(record_id),
        raw=bytes(raw),
        error=AckError(where, ErrorCode[error["code"]], error["text"]),
        received=_parse_instant(str(received)),
        source=str(source),
        control_id=str(control_id),
        status=QuarantineStatus(str(status)),
        attempts=int(attempts),
    )
