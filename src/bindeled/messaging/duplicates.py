"""MedCom's duplicate rule as a pure decision (DOMAIN §5.3, governance 020).

The receive cache holds, per received transmission, the envelope id (``Bundle.id``, new on every
transmission), the letter id (``MessageHeader.id``, kept on resend) and the acknowledgement code
the letter got. The decision:

========================  ======================  =============================================
envelope id               letter id               decision
========================  ======================  =============================================
new                       new                     process it
seen with this letter     seen                    send the original acknowledgement again
new                       seen                    duplicate: not delivered again; answered with
                                                  an acknowledgement of the same code and content
                                                  under a new envelope id and timestamp
seen with another letter  new                     reject (``fatal-error``): envelope ids are
                                                  never reused
seen with another letter  seen                    duplicate, as above (the reuse is flagged)
========================  ======================  =============================================

So one letter never gets ``ok`` for one copy and an error for another: every copy after the
first is answered with the first answer's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from .acknowledgement import ResponseCode

__all__ = ["Decision", "ReceiveLog", "Received", "Verdict", "decide"]


@dataclass(frozen=True, slots=True)
class Received:
    """One earlier transmission as the receive cache remembers it."""

    envelope_id: str
    message_id: str
    response: ResponseCode | None
    """The acknowledgement code it got; None while it is still being processed."""
    ack_envelope_id: str | None = None
    """``Bundle.id`` of the acknowledgement sent for it, to resend unchanged."""


class ReceiveLog(Protocol):
    """Lookups into the receive cache (kept well beyond the 30-minute resend window).

    The hub records every transmission it answers, with the code it answered, rejected ones too.
    """

    def by_envelope(self, envelope_id: str) -> Received | None:
        """The transmission that came in this envelope, if any."""

    def first_by_message(self, message_id: str) -> Received | None:
        """The first transmission of this letter, if any."""


class Verdict(StrEnum):
    PROCESS = "process"
    RESEND_ACK = "resend-ack"
    """Same envelope and letter again: send the original acknowledgement (same Bundle) again."""
    DUPLICATE = "duplicate"
    """Known letter in a new envelope: not delivered again; an acknowledgement with the first
    answer's code and OperationOutcome, in a new envelope."""
    REJECT = "reject"
    """A known envelope id carrying another letter: answered ``fatal-error``, not processed."""


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    original: Received | None = None
    """The earlier transmission the answer repeats (for RESEND_ACK and DUPLICATE)."""
    envelope_reused: bool = False
    """The envelope id was seen before with another letter: a sender error worth logging."""

    @property
    def response(self) -> ResponseCode | None:
        """The acknowledgement code to answer with, where the decision fixes it."""
        if self.verdict is Verdict.REJECT:
            return ResponseCode.FATAL_ERROR
        return self.original.response if self.original else None


def decide(envelope_id: str, message_id: str, log: ReceiveLog) -> Decision:
    """What to do with a transmission, given what was received before.

    A known letter always gets its first answer again, even when it arrives in a reused envelope,
    so no letter is ever answered ``ok`` once and with an error another time. For the same reason
    the caller records *every* answered transmission, rejected ones included.
    """
    seen_envelope = log.by_envelope(envelope_id)
    first = log.first_by_message(message_id)
    if seen_envelope is not None and seen_envelope.message_id == message_id:
        return Decision(Verdict.RESEND_ACK, first or seen_envelope)
    if first is not None:
        return Decision(Verdict.DUPLICATE, first, envelope_reused=seen_envelope is not None)
    if seen_envelope is not None:
        return Decision(Verdict.REJECT, envelope_reused=True)
    return Decision(Verdict.PROCESS)
