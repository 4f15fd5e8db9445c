"""The narrative ``div``: a string of XHTML in JSON, embedded XHTML in XML.

On the way out the string is checked to be exactly one well-formed XHTML ``<div>`` and then written
as it is, so it can neither break nor inject into the document. On the way in the reader first
serialises the parsed ``div`` with lxml (declaring only the namespaces it uses); when the source
text holds that very string (the usual case) it is the answer. Otherwise the reader cuts the n-th
narrative out of the source text (:func:`raw_divs`) and takes it verbatim when, parsed on its own,
it is the same XHTML (:func:`verbatim_div`); failing that (say, a namespace prefix declared further
up), lxml's serialisation stands. This keeps a JSON → XML → JSON round trip exact.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from ..errors import InvalidRequest
from ._xmlsafe import parse

__all__ = ["XHTML_DIV", "check_div", "raw_divs", "serialise_div", "verbatim_div"]

XHTML_NS = "http://www.w3.org/1999/xhtml"
XHTML_DIV = "{" + XHTML_NS + "}div"
_WS = " \t\r\n"

_CANDIDATE = re.compile(r"<!--.*?-->|<(?:[A-Za-z_][\w.\-]*:)?div[ \t\r\n/>]", re.S)
"""A narrative div start, or a comment to step over (outside narratives only comments hold text)."""
_TOKEN = re.compile(r"""<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|</[^>]*>|<(?:[^>"']|"[^"]*"|'[^']*')*>""", re.S)
"""Markup inside a well-formed div: comments, CDATA, processing instructions, end and start tags."""


def _fragment(text: str, path: str) -> Any:
    try:
        root = parse(text)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise InvalidRequest(f"The narrative is not well-formed XHTML: {exc}", location=(path,)) from None
    info = root.getroottree().docinfo
    if info.doctype or next(root.itersiblings(), None) is not None:
        raise InvalidRequest("The narrative must be a single XHTML <div> element", location=(path,))
    if next(root.itersiblings(preceding=True), None) is not None:
        raise InvalidRequest("The narrative must be a single XHTML <div> element", location=(path,))
    for _ in root.iter(etree.ProcessingInstruction, etree.Entity):
        raise InvalidRequest("The narrative may not hold processing instructions or entities", location=(path,))
    return root


def check_div(text: Any, path: str) -> str:
    """The narrative as it may be embedded: one well-formed XHTML ``<div>`` and nothing else.

    A ``<div>`` without the XHTML namespace gets it declared; anything else goes out as given.
    """
    if not isinstance(text, str):
        raise InvalidRequest("The narrative must be a string of XHTML", location=(path,))
    start = text.lstrip(_WS)
    if not start.startswith("<") or start.startswith(("<?", "<!")):
        raise InvalidRequest("The narrative must be a single XHTML <div> element", location=(path,))
    root = _fragment(text, path)
    if root.tag == "div" and start.startswith("<div"):
        at = text.index("<div") + 4
        return check_div(f'{text[:at]} xmlns="{XHTML_NS}"{text[at:]}', path)
    if root.tag != XHTML_DIV:
        raise InvalidRequest("The narrative must be an XHTML <div> element", location=(path,))
    return text


def serialise_div(el: Any) -> str:
    """lxml's serialisation of a parsed div, declaring only the namespaces it uses."""
    if el.nsmap != {None: XHTML_NS} and el.getparent() is not None:
        el = copy.deepcopy(el)
        etree.cleanup_namespaces(el)
    text: str = etree.tostring(el, encoding="unicode", with_tail=False)
    return text


def raw_divs(text: str) -> Iterator[str]:
    """The narrative divs of a well-formed FHIR XML document, as written, in document order."""
    pos = 0
    while (found := _CANDIDATE.search(text, pos)) is not None:
        pos = found.end()
        if found.group().startswith("<!--"):
            continue
        depth = 0
        for token in _TOKEN.finditer(text, found.start()):
            markup = token.group()
            if markup.startswith("</"):
                depth -= 1
            elif markup.startswith(("<!", "<?")):
                continue
            elif not markup.endswith("/>"):
                depth += 1
            if depth == 0:
                pos = token.end()
                yield text[found.start() : pos]
                break
        else:
            return


def verbatim_div(raw: str | None, normalised: str) -> str | None:
    """``raw`` if it is, standing alone, the same XHTML as ``normalised`` (else None)."""
    if raw is None:
        return None
    try:
        root = parse(raw)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return raw if serialise_div(root) == normalised else None
