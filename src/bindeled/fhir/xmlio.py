"""FHIR R4 XML in and out, as the same JSON trees :mod:`bindeled.fhir.jsonio` reads and writes.

The mapping follows the R4 XML and JSON representation rules (xml.html, json.html): everything in
the namespace ``http://hl7.org/fhir``; primitives carry their value in a ``value`` attribute, element
ids and extension urls are attributes; children appear in definition order and repeat where the
cardinality allows; a choice element is named with its type (``valueQuantity``); a primitive's id
and extensions become the JSON ``_name`` partner (null-aligned for arrays); resources inside other
resources (``contained``, ``Bundle.entry.resource``, ``Parameters.parameter.resource``, …) sit in a
wrapper element named after the element; ``Narrative.div`` is embedded XHTML and a string in JSON.
JSON values take the JSON type of their FHIR type: ``boolean`` → bool, ``integer`` /
``positiveInt`` / ``unsignedInt`` → int, ``decimal`` → :class:`~decimal.Decimal` with its digits
as written, everything else a string.

Safety: the parser never loads DTDs, never expands entities, never touches the network, and keeps
libxml2's size and depth limits; a document with a DOCTYPE, a processing instruction or an entity
reference is refused, comments are ignored. Every problem is an :class:`~bindeled.errors.InvalidRequest`
with a location: the FHIRPath of the offending element, or ``line N`` for XML syntax errors.

The narrative: JSON → XML writes the ``div`` string exactly as given (after checking it is one
well-formed XHTML ``<div>``; a bare ``<div>`` gets the XHTML namespace declared). XML → JSON takes
the ``div`` verbatim from the document text whenever that text stands alone as the same XHTML, so
a JSON → XML → JSON round trip is exact. Only when it cannot stand alone (its namespace prefix is
declared on an ancestor) is the ``div`` re-serialised by lxml, which writes ``&quot;`` as ``"``,
``<p></p>`` as ``<p/>``, character references as the characters, and declares only the namespaces
the ``div`` uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from ..errors import InvalidRequest
from ._xmlread import Reader
from ._xmlsafe import parse
from ._xmlschema import schema_for
from ._xmlwrite import Writer
from .definitions import Definitions

__all__ = ["resource_to_xml", "xml_to_resource"]

_DECLARATION = re.compile(r"\A\ufeff?<\?xml[ \t\r\n][^>]*\?>")


def _text(data: bytes | str) -> str | bytes:
    """``data`` ready for lxml: text loses its XML declaration, whose encoding means nothing for it."""
    if isinstance(data, str):
        return _DECLARATION.sub("", data, count=1)
    return data


def _parse(data: str | bytes) -> Any:
    """The root element of a well-formed document without DTD or top-level processing instructions."""
    try:
        root = parse(data.encode("utf-8") if isinstance(data, str) else data)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        raise InvalidRequest(f"The body is not well-formed XML: {exc.msg}", location=(f"line {line}",)) from None
    except (ValueError, UnicodeError) as exc:
        raise InvalidRequest(f"The body is not well-formed XML: {exc}", location=("line 1",)) from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise InvalidRequest("A DOCTYPE is not allowed in FHIR XML", location=("line 1",))
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if sibling.tag is not etree.Comment:
            line = f"line {sibling.sourceline}"
            raise InvalidRequest("A processing instruction is not allowed in FHIR XML", location=(line,))
    return root


def _source(data: str | bytes, root: Any) -> Callable[[], str | None]:
    """The document as text, decoded on demand (only narratives need it)."""

    def decode() -> str | None:
        if isinstance(data, str):
            return data
        encoding = (root.getroottree().docinfo.encoding or "utf-8").lower()
        try:
            return data.decode("utf-8-sig" if encoding in ("utf-8", "utf8") else encoding)
        except (LookupError, UnicodeError):
            return None

    return decode


def xml_to_resource(data: bytes | str, definitions: Definitions) -> dict[str, Any]:
    """Parse a FHIR XML resource into the JSON tree :func:`bindeled.fhir.jsonio.decode` would give."""
    text = _text(data)
    root = _parse(text)
    return Reader(schema_for(definitions), _source(text, root)).resource(root, "", 0)


def resource_to_xml(resource: dict[str, Any], definitions: Definitions) -> bytes:
    """Serialise a FHIR JSON tree as FHIR XML: UTF-8, with an XML declaration, no indentation."""
    return Writer(schema_for(definitions)).document(resource)
