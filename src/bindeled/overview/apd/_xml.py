"""Reading CDA XML safely: no DTDs, no entities, no network; errors name the element by XPath.

Every failure is a :class:`~bindeled.errors.BindeledError` whose ``location`` is an XPath into the
document (``/ClinicalDocument/recordTarget/patientRole/id``); messages never carry values, since a
document is full of CPR numbers and names.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ...errors import InvalidRequest, Unprocessable
from ...fhir._xmlsafe import UnsafeXml, parse_untrusted

__all__ = ["NS", "ApdFormatError", "ApdInvalid", "attr", "first", "parse", "text", "texts", "xpath_of"]

NS = {"v3": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
V3 = "{urn:hl7-org:v3}"


class ApdFormatError(InvalidRequest):
    """The body is not a readable CDA document (not XML, a DOCTYPE or entity, the wrong root)."""


class ApdInvalid(Unprocessable):
    """A readable CDA document that is not a valid APD-DK appointment (a missing or bad element)."""

    def __init__(self, message: str, location: str, details_code: str = "apd-invalid") -> None:
        super().__init__(message, location=(location,), details_code=details_code)


def parse(data: bytes) -> Any:
    """The ``ClinicalDocument`` root; anything else is an :class:`ApdFormatError` located at ``/``."""
    try:
        root = parse_untrusted(data, keep_comments=False)
    except UnsafeXml as unsafe:
        text = "Documents with a DOCTYPE are refused" if unsafe.what == "doctype" else "Entity references are refused"
        raise ApdFormatError(text, location=("/",)) from None
    except (etree.XMLSyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ApdFormatError(f"The document is not well-formed XML{where}", location=("/",)) from None
    if root.tag != V3 + "ClinicalDocument":
        raise ApdFormatError("The root element must be an HL7 v3 ClinicalDocument", location=("/*",))
    return root


def xpath_of(element: Any) -> str:
    """A readable XPath of ``element`` (``/ClinicalDocument/author[2]/assignedAuthor``)."""
    steps: list[str] = []
    node = element
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def first(element: Any, path: str) -> Any:
    """The first element at the (``v3:``-prefixed) XPath ``path`` below ``element``, or None."""
    found = element.xpath(path, namespaces=NS)
    return found[0] if found else None


def attr(element: Any, name: str) -> str | None:
    """An attribute's stripped value; None when absent or blank."""
    if element is None:
        return None
    value = element.get(name)
    if value is None or not value.strip():
        return None
    return str(value).strip()


def texts(element: Any, path: str) -> tuple[str, ...]:
    """The normalised texts (inner whitespace collapsed) of every element at ``path``."""
    out = []
    for found in element.xpath(path, namespaces=NS):
        value = " ".join("".join(found.itertext()).split())
        if value:
            out.append(value)
    return tuple(out)


def text(element: Any, path: str) -> str | None:
    """The normalised text of the first non-empty element at ``path``; None when there is none."""
    found = texts(element, path) if element is not None else ()
    return found[0] if found else None
