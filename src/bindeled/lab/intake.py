"""HL7 v2 lab intake: raw ER7 bytes → parse → validate → map → sink, answered with an ACK.

:func:`receive_er7` is the pipeline every channel uses (MLLP, files, replays). It never raises for a bad
message: anything that cannot be accepted is answered ``AE``/``AR`` with an ERR naming segment and field,
and kept in the sink's quarantine. A message whose control id was already accepted is answered ``AA``
again without storing anything (senders resend when an ACK is lost). :class:`Er7Handler` adapts the
pipeline to :class:`~bindeled.lab.hl7v2.mllp.MllpServer`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bindeled.lab.codes import CodeMap
from bindeled.lab.corrections import Outcome
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.ack import Ack, AckCode, salvage_header
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error
from bindeled.lab.hl7v2.mllp import Oversized
from bindeled.lab.hl7v2.oru_r01 import map_oru_r01
from bindeled.lab.quarantine import new_record
from bindeled.lab.sink import ResultSink

__all__ = ["Clock", "Er7Handler", "decode_er7", "process_er7", "receive_er7"]

Clock = Callable[[], datetime]

log = logging.getLogger(__name__)

_CHARSETS = {"": "utf-8", "UNICODE UTF-8": "utf-8", "ASCII": "ascii", "8859/1": "latin-1", "8859/15": "iso8859-15"}
"""MSH-18 (HL7 table 0211) values we read → Python codecs; the default for an empty MSH-18 is UTF-8."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def receive_er7(
    raw: bytes, sink: ResultSink, *, source: str = "mllp", codes: CodeMap | None = None, now: Clock = _utcnow
) -> Ack:
    """Process one message; a message that is not accepted is quarantined. Returns the ACK to send."""
    ack = await process_er7(raw, sink, codes=codes)
    if ack.code is not AckCode.ACCEPT:
        await sink.quarantine(new_record(raw, ack, source=source, received=now()))
        where = ack.errors[0].where
        log.warning(
            "lab message not accepted",
            # Only the channel is logged: a file name may carry personal data.
            extra={
                "ack": ack.code.value,
                "segment": where.segment_id,
                "field": where.field,
                "channel": source.split(":", maxsplit=1)[0],
            },
        )
    return ack


async def process_er7(raw: bytes, sink: ResultSink, *, codes: CodeMap | None = None) -> Ack:
    """Parse, map and store one message without quarantining (replays use this directly)."""
    header = None
    try:
        text = decode_er7(raw)
        header = salvage_header(text)
        message = er7.parse(text)
        header = message.msh
        return await _accept(message, sink, codes)
    except Hl7Error as error:
        return Ack.for_error(error, header[10] if header is not None else "", header)
    except Exception as exc:  # a bug must still be answered and quarantined, never lost
        log.error("lab message mapping failed unexpectedly", extra={"error_type": type(exc).__name__})
        internal = Hl7Error(
            "the message could not be processed", ErrorLocation("MSH", 1), ErrorCode.APPLICATION_INTERNAL
        )
        return Ack.for_error(internal, header[10] if header is not None else "", header)


async def _accept(message: er7.Message, sink: ResultSink, codes: CodeMap | None) -> Ack:
    mapped = map_oru_r01(message, codes)
    header = mapped.header
    if await sink.seen(header.laboratory, header.control_id):
        return Ack(AckCode.ACCEPT, header.control_id, text="duplicate", duplicate=True, answering=message.msh)
    outcomes = await sink.store_all(mapped.results)
    duplicate = all(outcome is Outcome.DUPLICATE for outcome in outcomes)
    return Ack(AckCode.ACCEPT, header.control_id, duplicate=duplicate, answering=message.msh)


def decode_er7(raw: bytes) -> str:
    """Bytes → text in the character set named by MSH-18 (UTF-8 when empty)."""
    first = raw.split(b"\r", 1)[0].split(b"\n", 1)[0]
    fields = first.split(first[3:4]) if len(first) > 3 and first.startswith(b"MSH") else []
    charset = fields[17].split(b"^")[0].decode("ascii", "replace").strip() if len(fields) > 17 else ""
    where = ErrorLocation("MSH", 1, 18)
    codec = _CHARSETS.get(charset)
    if codec is None:
        raise Hl7Error("MSH-18 names an unsupported character set", where, ErrorCode.TABLE_VALUE_NOT_FOUND, reject=True)
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise Hl7Error(
            "the message is not in the character set of MSH-18", where, ErrorCode.DATA_TYPE, reject=True
        ) from exc


class Er7Handler:
    """The MLLP :class:`~bindeled.lab.hl7v2.mllp.FrameHandler` for lab results: each frame → ACK bytes."""

    def __init__(self, sink: ResultSink, *, codes: CodeMap | None = None, now: Clock = _utcnow) -> None:
        self.sink, self.codes, self.now = sink, codes, now

    async def message(self, payload: bytes) -> bytes:
        ack = await receive_er7(payload, self.sink, source="mllp", codes=self.codes, now=self.now)
        return ack.render(self.now()).encode("utf-8")

    async def oversized(self, frame: Oversized) -> bytes:
        """Reject a frame over the size limit; its first bytes are quarantined (the rest was never buffered)."""
        header = salvage_header(frame.prefix.decode("utf-8", "replace"))
        error = Hl7Error("the message exceeds the size limit", ErrorLocation("MSH", 1), reject=True)
        log.warning("lab message over the size limit rejected", extra={"size": frame.size})
        ack = Ack.for_error(error, header[10] if header is not None else "", header)
        await self.sink.quarantine(new_record(frame.prefix, ack, source="mllp-oversized", received=self.now()))
        return ack.render(self.now()).encode("utf-8")
