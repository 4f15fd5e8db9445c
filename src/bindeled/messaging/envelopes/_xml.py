"""Envelope XML parsing that never loads DTDs, expands entities or touches the network."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ...errors import InvalidRequest
from ...fhir._xmlsafe import UnsafeXml, parse_untrusted

__all__ = ["parse", "text"]


def parse(data: bytes) -> Any:
    """The root element; a DOCTYPE, an entity or malformed XML is an :class:`InvalidRequest`."""
    try:
        return parse_untrusted(data)
    except UnsafeXml as unsafe:
        text = "Envelopes with a DOCTYPE are refused" if unsafe.what == "doctype" else "Entity references are refused"
        raise InvalidRequest(text, location=("envelope",)) from None
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InvalidRequest(f"The envelope is not well-formed XML: {exc}", location=("envelope",)) from None


def text(element: Any, path: str, namespaces: dict[str, str]) -> str | None:
    """The stripped text of the first element at ``path``, if present."""
    found = element.find(path, namespaces)
    if found is None or found.text is None:
        return None
    return str(found.text).strip()
