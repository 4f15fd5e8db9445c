"""Where is my message? Every hop of a letter through the hub, as AuditEvents.

Each hop (received, validated, refused, acknowledged, delivered, …) is one row in ``hub_hop`` holding
an R4 AuditEvent in the style of the national delivery-status service: ``type`` *transmit*, the hop
as ``subtype``, the sender (requestor) and receiver as agents named by GLN, the letter as the entity
(its MessageHeader.id, with the message type as a detail). Hops are written inside the caller's
transaction, so a hop is recorded exactly when the work it describes commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec

from ...store.base import Store, Transaction
from ...store.sql_params import chunks, values_clause
from ..messages import GLN_SYSTEM

__all__ = ["HOP_SYSTEM", "Hop", "HopRecord", "hops_statement", "message_status", "record_hop", "record_hops"]

HOP_SYSTEM = "https://bindeled.dk/fhir/CodeSystem/message-hop"
"""The code system of the hop codes (``AuditEvent.subtype``)."""
MESSAGE_ID_SYSTEM = "https://bindeled.dk/fhir/NamingSystem/medcom-message-id"
"""How a letter is named in ``AuditEvent.entity.what.identifier``: its MessageHeader.id."""


class Hop(StrEnum):
    """One step of a letter through the hub."""

    RECEIVED = "received"
    VALIDATED = "validated"
    REFUSED = "refused"
    ACKNOWLEDGED = "acknowledged"
    DELIVERED = "delivered"
    RECEIVER_ACKNOWLEDGED = "receiver-acknowledged"
    RESENT = "resent"
    FAILED = "failed"
    DEAD_LETTERED = "dead-lettered"
    REPLAYED = "replayed"


_DISPLAY = {
    Hop.RECEIVED: "Received by the hub",
    Hop.VALIDATED: "Validated against profile and business rules",
    Hop.REFUSED: "Refused (fatal-error acknowledgement)",
    Hop.ACKNOWLEDGED: "Acknowledgement sent to the sender",
    Hop.DELIVERED: "Delivered to the receiver",
    Hop.RECEIVER_ACKNOWLEDGED: "Acknowledged by the receiver",
    Hop.RESENT: "Sent again in a new envelope",
    Hop.FAILED: "Delivery failed",
    Hop.DEAD_LETTERED: "Moved to the dead-letter list",
    Hop.REPLAYED: "Replayed by an operator",
}
_OUTCOME = {Hop.REFUSED: "4", Hop.FAILED: "8", Hop.DEAD_LETTERED: "8"}
"""AuditEvent.outcome: 0 success, 4 minor failure (the letter was answered, not delivered), 8 serious."""

_SELECT = "SELECT body FROM hub_hop WHERE message_id = $1 ORDER BY seq"


def _party(gln: str, role: str, *, requestor: bool) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": role}]},
        "who": {"identifier": {"system": GLN_SYSTEM, "value": gln}},
        "requestor": requestor,
    }


def hop_event(
    message_id: str,
    hop: Hop,
    *,
    message_type: str,
    sender_gln: str,
    receiver_gln: str,
    detail: str,
    at: datetime,
) -> dict[str, Any]:
    """The AuditEvent for one hop (pure; :func:`record_hop` stores it)."""
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(uuid.uuid4()),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "transmit"},
        "subtype": [{"system": HOP_SYSTEM, "code": hop.value, "display": _DISPLAY[hop]}],
        "action": "E",
        "recorded": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "outcome": _OUTCOME.get(hop, "0"),
        "agent": [_party(sender_gln, "AUT", requestor=True), _party(receiver_gln, "PRCP", requestor=False)],
        "source": {
            "observer": {"display": "bindeled MedCom hub"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}],
        },
        "entity": [
            {
                "what": {"identifier": {"system": MESSAGE_ID_SYSTEM, "value": message_id}},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                "detail": [{"type": "message-type", "valueString": message_type}],
            }
        ],
    }
    if detail:
        event["outcomeDesc"] = detail
    return event


@dataclass(frozen=True, slots=True)
class HopRecord:
    """One hop to record (see :func:`record_hops`)."""

    message_id: str
    hop: Hop
    message_type: str
    sender_gln: str
    receiver_gln: str
    detail: str = ""
    at: datetime | None = None


async def record_hop(
    tx: Transaction,
    message_id: str,
    hop: Hop,
    *,
    message_type: str,
    sender_gln: str,
    receiver_gln: str,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Record one hop of a letter as an AuditEvent (delivery-status style) inside the caller's transaction."""
    await record_hops(tx, [HopRecord(message_id, hop, message_type, sender_gln, receiver_gln, detail, at)])


def _row(record: HopRecord) -> tuple[object, ...]:
    moment = record.at if record.at is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("hop times must be timezone-aware")
    event = hop_event(
        record.message_id,
        record.hop,
        message_type=record.message_type,
        sender_gln=record.sender_gln,
        receiver_gln=record.receiver_gln,
        detail=record.detail,
        at=moment,
    )
    return (
        record.message_id,
        record.hop.value,
        moment.astimezone(UTC).isoformat(timespec="microseconds"),
        record.message_type,
        record.sender_gln,
        record.receiver_gln,
        msgspec.json.encode(event),
    )


_INSERT = "INSERT INTO hub_hop (message_id, hop, at, message_type, sender_gln, receiver_gln, body) VALUES "


async def record_hops(tx: Transaction, records: Sequence[HopRecord]) -> None:
    """Record several hops in one statement per chunk (few round trips to the database), in the order given."""
    for chunk in chunks(records):
        await tx.fetch_all(*hops_statement(chunk))


def hops_statement(records: Sequence[HopRecord]) -> tuple[str, list[object]]:
    """One statement recording ``records`` (at most ``ROWS_PER_STATEMENT``), and its parameters."""
    return _INSERT + values_clause(len(records), 7), [value for record in records for value in _row(record)]


async def message_status(store: Store, message_id: str) -> list[dict[str, Any]]:
    """The hop AuditEvents of one letter, oldest first (empty when the hub never saw it)."""
    rows = await store.fetch_all(_SELECT, (message_id,))
    return [msgspec.json.decode(bytes(row[0])) for row in rows]
