"""Shared helpers for the ORU^R01 mapping: required fields, times, and local + mapped codings."""

from __future__ import annotations

import uuid
from typing import Any

from bindeled.lab.codes import CodeMap
from bindeled.lab.hl7v2._dtm import parse_dtm, to_fhir_datetime
from bindeled.lab.hl7v2.er7 import Field, Segment
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error

__all__ = ["ID_NAMESPACE", "Context", "local_system", "resource_id"]

Resource = dict[str, Any]

ID_NAMESPACE = uuid.UUID("4f1f5b0e-3c4a-5e1e-9a57-6c61622d6269")
"""Namespace for the deterministic resource ids, so that replaying a message yields the same ids."""


def local_system(laboratory: str) -> str:
    """The code system URI of one laboratory's local codes."""
    return f"urn:bindeled:lab:{laboratory}:codes"


def resource_id(*parts: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "|".join(parts)))


class Context:
    """What mapping one message needs: the laboratory, the code map, and segment occurrence numbers."""

    def __init__(self, laboratory: str, codes: CodeMap) -> None:
        self.laboratory = laboratory
        self.codes = codes
        self.unmapped: list[str] = []
        self._sequence: dict[int, int] = {}

    def number(self, segment: Segment, sequence: int) -> None:
        """Remember that ``segment`` is occurrence ``sequence`` of its id (for ERR-2)."""
        self._sequence[id(segment)] = sequence

    def where(self, segment: Segment, field: int = 0, component: int = 0) -> ErrorLocation:
        return ErrorLocation(segment.id, self._sequence.get(id(segment), 1), field, 0, component)

    def required(self, segment: Segment, number: int, what: str) -> Field:
        """Field ``number`` of ``segment``, or an AE error naming it when it is empty."""
        field = segment.field(number)
        if field.is_empty:
            where = self.where(segment, number)
            raise Hl7Error(f"{what} is missing", where, ErrorCode.REQUIRED_FIELD_MISSING)
        return field

    def datetime(self, segment: Segment, number: int, component: int = 1) -> str | None:
        """FHIR dateTime of a DTM field (None when empty); a malformed value is a data type error."""
        text = segment.field(number).component(component)
        if not text:
            return None
        parsed = parse_dtm(text)
        if parsed is None:
            where = self.where(segment, number, component)
            raise Hl7Error("a date/time field is not a valid HL7 DTM", where, ErrorCode.DATA_TYPE)
        return to_fhir_datetime(*parsed)

    def concept(self, field: Field, repetition: int = 1) -> Resource:
        """CodeableConcept from a CE/CWE value: the local coding and, when the table has one, the mapped one."""
        code, display = field.component(1, repetition), field.component(2, repetition)
        local: Resource = {"system": local_system(self.laboratory), "code": code, "userSelected": True}
        if display:
            local["display"] = display
        concept: Resource = {"coding": [local]}
        if display:
            concept["text"] = display
        mapped = self.codes.lookup(self.laboratory, code)
        if mapped is None:
            self.unmapped.append(code)
        else:
            concept["coding"].append({"system": mapped.system, "code": mapped.code, "display": mapped.display})
        return concept
