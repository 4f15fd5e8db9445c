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

__all__ = ["parse"]

_local = threading.local()


class _NoExternal(etree.Resolver):  # type: ignore[misc]
    """Resolves every external identifier (DTD subset, entity) to an empty document."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        return self.resolve_string("", context)


def _parser() -> Any:
    """One parser per thread: an lxml parser must not be used by two threads at once."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
            remove_comments=False,
            remove_pis=False,
        )
        parser.resolvers.add(_NoExternal())
    return parser


def parse(data: bytes | str) -> Any:
    """The root element of ``data``; raises ``etree.XMLSyntaxError`` or ``ValueError`` if malformed."""
    return etree.fromstring(data, _parser())
