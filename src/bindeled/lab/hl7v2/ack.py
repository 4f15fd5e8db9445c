"""HL7 v2 original-mode acknowledgements (ACK with MSA, and ERR per v2.5).

``MSA-1`` is ``AA`` (accepted), ``AE`` (content error: the message was understood but is wrong, e.g. a
missing PID-3) or ``AR`` (rejected: the header is broken or the message type is not supported). Each
error adds an ``ERR`` segment whose ``ERR-2`` (ERL) names segment id, sequence, field position,
repetition, component and sub-component, ``ERR-3`` the table 0357 code, ``ERR-4`` the severity and
``ERR-8`` a text that never contains values from the message.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bindeled.lab.hl7v2.er7 import DEFAULT_ENCODING, Field, Message, Segment, serialise
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error

__all__ = ["Ack", "AckCode", "AckError", "salvage_header"]


class AckCode(Enum):
    """HL7 table 0008 (acknowledgment code), original mode."""

    ACCEPT = "AA"
    ERROR = "AE"
    REJECT = "AR"


@dataclass(frozen=True, slots=True)
class AckError:
    """One ERR segment's content."""

    where: ErrorLocation
    code: ErrorCode
    text: str

    @classmethod
    def of(cls, error: Hl7Error) -> AckError:
        return cls(error.where, error.hl7_code, error.message)


@dataclass(frozen=True, slots=True)
class Ack:
    """The answer to one message, before it is rendered as ER7."""

    code: AckCode
    control_id: str
    """``MSH-10`` of the acknowledged message ('' when it could not be read), echoed in ``MSA-2``."""
    errors: tuple[AckError, ...] = ()
    text: str = ""
    duplicate: bool = False
    """True when this message control id had been processed before (the answer is then idempotent)."""
    answering: Segment | None = None
    """The received MSH (or one salvaged from unparseable text) whose routing the ACK mirrors."""

    @classmethod
    def for_error(cls, error: Hl7Error, control_id: str, answering: Segment | None) -> Ack:
        code = AckCode.REJECT if error.reject else AckCode.ERROR
        return cls(code, control_id, (AckError.of(error),), error.message, answering=answering)

    def render(self, now: datetime, ack_id: str | None = None) -> str:
        """ER7 of the ACK message; ``ack_id`` is its own MSH-10 (random when not given)."""
        original = self.answering
        segments = (self._msh(original, now, ack_id or uuid.uuid4().hex[:20]), self._msa(), *self._errs())
        return serialise(Message(DEFAULT_ENCODING, segments))

    def _msh(self, original: Segment | None, now: datetime, ack_id: str) -> Segment:
        def take(n: int) -> Field:
            return original.field(n) if original is not None else Field()

        trigger = take(9).component(2)
        fields = (
            Field.of("|"),
            Field.of(DEFAULT_ENCODING.msh2),
            take(5),
            take(6),
            take(3),
            take(4),
            Field.of(now.strftime("%Y%m%d%H%M%S%z")),
            Field(),
            Field.of("ACK", trigger, "ACK") if trigger else Field.of("ACK"),
            Field.of(ack_id),
            Field.of(take(11).value or "P"),
            Field.of(take(12).value or "2.5"),
        )
        return Segment("MSH", fields)

    def _msa(self) -> Segment:
        fields = [Field.of(self.code.value), Field.of(self.control_id)]
        if self.text:
            fields.append(Field.of(self.text))
        return Segment("MSA", tuple(fields))

    def _errs(self) -> tuple[Segment, ...]:
        return tuple(_err(error) for error in self.errors)


def _err(error: AckError) -> Segment:
    where = error.where
    positions = (where.sequence, where.field, where.repetition, where.component, where.subcomponent)
    location = Field.of(where.segment_id, *(str(p) if p else "" for p in positions))
    code = Field.of(error.code.number, error.code.text, "HL70357")
    return Segment("ERR", (Field(), location, code, Field.of("E"), Field(), Field(), Field(), Field.of(error.text)))


def salvage_header(raw: str) -> Segment | None:
    """A best-effort MSH from text that did not parse, so that even a rejection is routed back correctly.

    Only the first segment is looked at, split on ``|`` and ``^`` without escapes; values are used solely
    to address the ACK and to echo the control id.
    """
    first = raw.replace("\n", "\r").lstrip().split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 4:
        return None
    sep = first[3]
    parts = first.split(sep)
    fields = [Field.of(sep), Field.of(parts[1] if len(parts) > 1 else "")]
    fields += [Field.of(*part.split("^")) for part in parts[2:]]
    return Segment("MSH", tuple(fields))
