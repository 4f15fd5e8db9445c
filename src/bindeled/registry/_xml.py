"""Small XML reading helpers for the SOR importer: names, texts, typed values, and a child walker.

Every reader takes a :class:`Ctx`, which knows the element path (for error messages) and where to
report issues. Values are never put into error texts except codes (SOR, EAN), which are not personal
data; a GP practice's name can be a person's name, so names stay out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from lxml import etree

from ..errors import InvalidRequest
from .model import LoadIssue

__all__ = [
    "Ctx",
    "Reader",
    "SorFormatError",
    "local_name",
    "read_bool",
    "read_date",
    "read_datetime",
    "read_fields",
    "read_text",
    "report_attributes",
]


class SorFormatError(InvalidRequest):
    """The SOR export is malformed: bad XML, a misplaced element, a missing or unreadable value.

    ``location`` holds the element path; the message names it and the line too.
    """

    def __init__(self, message: str, path: str, line: int | None = None) -> None:
        where = f"{path} (line {line})" if line else path
        super().__init__(f"{message} at {where}", location=(path,), details_code="sor-format")
        self.path = path
        self.line = line


class Ctx:
    """Where a reader is (element path) and where it reports what it noticed.

    The path string is only built when needed (an error or an issue): most elements never need it.
    """

    __slots__ = ("_base", "_name", "_parent", "report")

    def __init__(
        self, path: str, report: Callable[[LoadIssue], None], *, parent: Ctx | None = None, name: str = ""
    ) -> None:
        self._base, self._parent, self._name, self.report = path, parent, name, report

    @property
    def path(self) -> str:
        return f"{self._parent.path}/{self._name}" if self._parent is not None else self._base

    def child(self, name: str) -> Ctx:
        return Ctx("", self.report, parent=self, name=name)

    def fail(self, message: str, elem: etree._Element) -> SorFormatError:
        return SorFormatError(message, self.path, elem.sourceline)

    def notice(self, code: str, message: str, elem: etree._Element) -> None:
        self.report(LoadIssue(self.path, elem.sourceline, message, code))


Reader = Callable[[etree._Element, Ctx], Any]
"""Reads one element into a value."""

_KNOWN_ATTRIBUTES = {"CountryIdentificationCode": frozenset({"scheme"})}
"""Attributes the readers use; any other attribute is reported as ignored."""


def local_name(elem: etree._Element) -> str:
    """The element's name without its namespace."""
    tag = elem.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _elements(elem: etree._Element, ctx: Ctx) -> list[etree._Element]:
    children = []
    for child in elem:
        if not isinstance(child.tag, str):
            raise ctx.fail("Entity references are not accepted", elem)
        children.append(child)
    return children


def read_text(elem: etree._Element, ctx: Ctx) -> str | None:
    """The trimmed text of a leaf element; None when empty."""
    if len(elem):
        raise ctx.fail("Expected a value, found child elements or entity references", elem)
    text = (elem.text or "").strip()
    return text or None


def read_bool(elem: etree._Element, ctx: Ctx) -> bool | None:
    """An ``xs:boolean``."""
    text = read_text(elem, ctx)
    if text is None:
        return None
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ctx.fail("Not a boolean (true/false)", elem)


def read_date(elem: etree._Element, ctx: Ctx) -> date | None:
    """An ``xs:date``; a time-zone suffix is dropped (SOR dates are Danish calendar days)."""
    text = read_text(elem, ctx)
    if text is None:
        return None
    if len(text) > 10 and text[10] not in "Z+-":
        raise ctx.fail("Not a date (YYYY-MM-DD)", elem)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ctx.fail("Not a date (YYYY-MM-DD)", elem) from None


def read_datetime(elem: etree._Element, ctx: Ctx) -> datetime | None:
    """An ``xs:dateTime``."""
    text = read_text(elem, ctx)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ctx.fail("Not a date-time", elem) from None


def read_fields(elem: etree._Element, ctx: Ctx, spec: Mapping[str, tuple[str, Reader]]) -> dict[str, Any]:
    """Read the children ``spec`` names (child name → field name, reader) into a field dict.

    Each named child may appear once; a repeat is an error, since a second value would otherwise be
    lost. Children ``spec`` does not name are reported as ``unknown-element`` and skipped.
    """
    fields: dict[str, Any] = {}
    for child in _elements(elem, ctx):
        name = local_name(child)
        sub = ctx.child(name)
        if name not in spec:
            sub.notice("unknown-element", f"Unknown element {name} ignored", child)
            continue
        if len(child.attrib):
            report_attributes(child, sub, _KNOWN_ATTRIBUTES.get(name, frozenset()))
        field, reader = spec[name]
        if field in fields:
            raise sub.fail(f"{name} may appear only once", child)
        value = reader(child, sub)
        if value is not None:
            fields[field] = value
    return fields


def report_attributes(elem: etree._Element, ctx: Ctx, allowed: frozenset[str] = frozenset()) -> None:
    """Report attributes the importer does not use, so none disappears unnoticed."""
    for key in elem.attrib:
        name = str(key).rpartition("}")[2]
        if name not in allowed:
            ctx.notice("ignored-attribute", f"Attribute {name} ignored", elem)
