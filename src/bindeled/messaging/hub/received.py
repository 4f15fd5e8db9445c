"""The hub's memory of what it received: letters, envelopes and the answers it gave.

MedCom's duplicate rule (:mod:`bindeled.messaging.duplicates`) needs to know, for an incoming
transmission, whether its envelope (``Bundle.id``) and its letter (``MessageHeader.id``) were seen
before and what the letter was answered. ``hub_message`` keeps each letter once, with its bytes as
received and the Acknowledgement sent for it; ``hub_envelope`` keeps every envelope id. Inserts never
overwrite: a concurrent first copy of the same letter makes the later insert report ``False``, and
the caller starts again, now seeing a duplicate.

All SQL uses ``$1``, ``$2``, … each once and in order, which both backends bind the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from ...store._records import format_instant
from ...store.base import Store, Transaction
from ..acknowledgement import ResponseCode
from ..duplicates import Decision, Received, decide

__all__ = [
    "Letter",
    "decide_transmission",
    "envelope_statement",
    "find_letter",
    "letter_statement",
    "remember_envelope",
    "remember_letter",
]

_COLUMNS = (
    "message_id, envelope_id, message_type, sender_gln, receiver_gln, sender_sor, receiver_sor,"
    " received, response_code, media_type, body, acknowledgement"
)
_INSERT_LETTER = (
    f"INSERT INTO hub_message ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (message_id) DO NOTHING RETURNING message_id"
)
_SELECT_LETTER = f"SELECT {_COLUMNS} FROM hub_message WHERE message_id = $1"
_INSERT_ENVELOPE = (
    "INSERT INTO hub_envelope (envelope_id, message_id, received) VALUES ($1, $2, $3)"
    " ON CONFLICT (envelope_id) DO NOTHING RETURNING envelope_id"
)
_SELECT_BOTH = (
    "SELECT (SELECT e.message_id FROM hub_envelope e WHERE e.envelope_id = $1), "
    + ", ".join(f"m.{column.strip()}" for column in _COLUMNS.split(","))
    + " FROM (SELECT 1 AS one) d LEFT JOIN hub_message m ON m.message_id = $2"
)
"""The envelope's letter (if the envelope was seen) and the letter with the message id, in one round trip."""


@dataclass(frozen=True, slots=True)
class Letter:
    """One received letter as the hub keeps it."""

    message_id: str
    envelope_id: str
    """The envelope of the first copy."""
    message_type: str
    """MessageHeader ``eventCoding.code``."""
    sender_gln: str
    receiver_gln: str
    sender_sor: str
    receiver_sor: str
    received: datetime
    response_code: str
    """The code the letter was answered with (for an incoming Acknowledgement: the code it carries)."""
    media_type: str
    body: bytes
    """The Bundle exactly as received."""
    acknowledgement: bytes
    """The Acknowledgement Bundle (FHIR JSON) sent for the letter; empty for an incoming Acknowledgement."""

    def ack_envelope_id(self) -> str | None:
        if not self.acknowledgement:
            return None
        value = msgspec.json.decode(self.acknowledgement).get("id")
        return value if isinstance(value, str) else None


def _letter(row: tuple[object, ...]) -> Letter:
    values = list(row)
    return Letter(
        message_id=str(values[0]),
        envelope_id=str(values[1]),
        message_type=str(values[2]),
        sender_gln=str(values[3]),
        receiver_gln=str(values[4]),
        sender_sor=str(values[5]),
        receiver_sor=str(values[6]),
        received=datetime.fromisoformat(str(values[7])),
        response_code=str(values[8]),
        media_type=str(values[9]),
        body=bytes(values[10]),  # type: ignore[call-overload]
        acknowledgement=bytes(values[11]),  # type: ignore[call-overload]
    )


async def find_letter(where: Store | Transaction, message_id: str) -> Letter | None:
    """The letter with this MessageHeader.id, if the hub received it."""
    rows = await where.fetch_all(_SELECT_LETTER, (message_id,))
    return _letter(rows[0]) if rows else None


async def remember_letter(tx: Transaction, letter: Letter) -> bool:
    """Keep a letter; False when a letter with that id is already kept (nothing is changed then)."""
    return bool(await tx.fetch_all(*letter_statement(letter)))


def letter_statement(letter: Letter) -> tuple[str, list[object]]:
    """The statement :func:`remember_letter` runs (it returns a row when the letter is new), and its parameters."""
    row: list[object] = [
        letter.message_id,
        letter.envelope_id,
        letter.message_type,
        letter.sender_gln,
        letter.receiver_gln,
        letter.sender_sor,
        letter.receiver_sor,
        format_instant(letter.received),
        letter.response_code,
        letter.media_type,
        letter.body,
        letter.acknowledgement,
    ]
    return _INSERT_LETTER, row


async def remember_envelope(tx: Transaction, envelope_id: str, message_id: str, at: datetime) -> bool:
    """Keep an envelope id; False when it was seen before."""
    return bool(await tx.fetch_all(*envelope_statement(envelope_id, message_id, at)))


def envelope_statement(envelope_id: str, message_id: str, at: datetime) -> tuple[str, list[object]]:
    """The statement :func:`remember_envelope` runs (it returns a row when the envelope is new), and its parameters."""
    return _INSERT_ENVELOPE, [envelope_id, message_id, format_instant(at)]


class _Log:
    """The two lookups :func:`~bindeled.messaging.duplicates.decide` needs, answered from rows read up front."""

    def __init__(self, envelope: Received | None, first: Received | None) -> None:
        self._envelope = envelope
        self._first = first

    def by_envelope(self, envelope_id: str) -> Received | None:
        return self._envelope

    def first_by_message(self, message_id: str) -> Received | None:
        return self._first


def _received(letter: Letter) -> Received:
    try:
        code: ResponseCode | None = ResponseCode(letter.response_code)
    except ValueError:
        code = None
    return Received(letter.envelope_id, letter.message_id, code, letter.ack_envelope_id())


async def decide_transmission(
    where: Store | Transaction, envelope_id: str, message_id: str
) -> tuple[Decision, Letter | None]:
    """MedCom's duplicate decision for a transmission, and the earlier letter it repeats (if any)."""
    (row,) = await where.fetch_all(_SELECT_BOTH, (envelope_id, message_id))
    first = _letter(row[1:]) if row[1] is not None else None
    envelope = Received(envelope_id, str(row[0]), None) if row[0] is not None else None
    log = _Log(envelope, _received(first) if first is not None else None)
    return decide(envelope_id, message_id, log), first
