"""HL7 v2 processing errors, each naming where in the message it went wrong.

An :class:`Hl7Error` is an :class:`~bindeled.errors.InvalidRequest` (one error tree) that also carries
what an HL7 v2.5 ``ERR`` segment needs: the location (``ERR-2``, an ERL: segment id, segment
sequence, field position, repetition, component, sub-component), the HL7 error code (``ERR-3``,
table 0357) and whether the whole message is rejected (``MSA-1 AR``) or its content is in error
(``MSA-1 AE``). Messages never contain field values, so no CPR number or name can leak into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bindeled.errors import InvalidRequest

__all__ = ["ErrorCode", "ErrorLocation", "Hl7Error"]


class ErrorCode(Enum):
    """HL7 table 0357 (message error condition codes) as used in ``ERR-3``."""

    SEGMENT_SEQUENCE = ("100", "Segment sequence error")
    REQUIRED_FIELD_MISSING = ("101", "Required field missing")
    DATA_TYPE = ("102", "Data type error")
    TABLE_VALUE_NOT_FOUND = ("103", "Table value not found")
    UNSUPPORTED_MESSAGE_TYPE = ("200", "Unsupported message type")
    UNSUPPORTED_EVENT = ("201", "Unsupported event code")
    UNSUPPORTED_PROCESSING_ID = ("202", "Unsupported processing id")
    UNSUPPORTED_VERSION = ("203", "Unsupported version id")
    APPLICATION_INTERNAL = ("207", "Application internal error")

    @property
    def number(self) -> str:
        return self.value[0]

    @property
    def text(self) -> str:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class ErrorLocation:
    """An HL7 v2.5 ERL (``ERR-2``): where in the message the problem is. Positions are 1-based; 0 = not given."""

    segment_id: str
    sequence: int = 1
    """Which occurrence of ``segment_id`` in the message (the second OBX is 2)."""
    field: int = 0
    repetition: int = 0
    component: int = 0
    subcomponent: int = 0

    def fhirpath_like(self) -> str:
        """A compact text form such as ``OBX[2]-5.1`` used in error texts and OperationOutcome locations."""
        text = f"{self.segment_id}[{self.sequence}]"
        if self.field:
            text += f"-{self.field}"
            if self.component:
                text += f".{self.component}"
        return text


class Hl7Error(InvalidRequest):
    """A message that cannot be accepted, with the ERR location, the 0357 code and AE/AR severity."""

    def __init__(
        self,
        message: str,
        where: ErrorLocation,
        code: ErrorCode = ErrorCode.APPLICATION_INTERNAL,
        *,
        reject: bool = False,
    ) -> None:
        super().__init__(message, location=(where.fhirpath_like(),), details_code=code.number)
        self.where = where
        self.hl7_code = code
        self.reject = reject
        """True when the message as a whole is refused (``AR``); False for content errors (``AE``)."""
