"""Envelope XML parsing that never loads DTDs, expands entities or touches the network."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ...errors import InvalidRequest

__all__ = ["parse", "text"]


def _parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def parse(data: bytes) -> Any:
    """The root element; a DOCTYPE, an entity or malformed XML is an :class:`InvalidRequest`."""
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InvalidRequest(f"The envelope is not well-formed XML: {exc}", location=("envelope",)) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidRequest("Envelopes with a DOCTYPE are refused", location=("envelope",))
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise InvalidRequest("Entity references are refused", location=("envelope",))
    return root


def text(element: Any, path: str, namespaces: dict[str, str]) -> str | None:
    """The stripped text of the first element at ``path``, if present."""
    found = element.find(path, namespaces)
    if found is None or found.text is None:
        return None
    return str(found.text).strip()
