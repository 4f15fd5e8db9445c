"""The one way FHIR XML is parsed: lxml without DTDs, entity expansion or network access.

libxml2's own limits stay on (``huge_tree`` off: at most 256 levels of nesting, bounded text
nodes), so neither external entities (XXE) nor entity expansion bombs nor absurd depth get through.
libxml2 still reaches for an external DTD subset named in a DOCTYPE even with DTD loading off, so a
resolver answers every such request with nothing: no file, device or URL is ever opened. (Callers
refuse documents with a DOCTYPE afterwards anyway.)
"""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

__all__ = ["UnsafeXml", "parse", "parse_untrusted"]

_local = threading.local()


class _NoExternal(etree.Resolver):  # type: ignore[misc]
    """Resolves every external identifier (DTD subset, entity) to an empty document."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        return self.resolve_string("", context)


def _parser(keep_comments: bool) -> Any:
    """One parser per thread and kind: an lxml parser must not be used by two threads at once."""
    name = "parser" if keep_comments else "bare_parser"
    parser = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
            remove_comments=not keep_comments,
            remove_pis=not keep_comments,
        )
        parser.resolvers.add(_NoExternal())
        setattr(_local, name, parser)
    return parser


def parse(data: bytes | str, *, keep_comments: bool = True) -> Any:
    """The root element of ``data``; raises ``etree.XMLSyntaxError`` or ``ValueError`` if malformed."""
    return etree.fromstring(data, _parser(keep_comments))


class UnsafeXml(ValueError):
    """A document with a DOCTYPE or an entity reference: refused, never expanded."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
        """``doctype`` or ``entity``."""


def parse_untrusted(data: bytes, *, keep_comments: bool = True) -> Any:
    """The root element of a document from outside; :class:`UnsafeXml` for a DOCTYPE or an entity reference.

    Malformed XML raises ``etree.XMLSyntaxError`` or ``ValueError`` as :func:`parse` does.
    """
    root = parse(data, keep_comments=keep_comments)
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeXml("doctype")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise UnsafeXml("entity")
    return root
