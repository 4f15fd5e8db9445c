"""Basic sanity of Narrative XHTML (the R4 invariants txt-1 and txt-2, checked natively).

R4 expresses these with the FHIRPath function ``htmlChecks()``, which general FHIRPath engines
(fhirpathpy among them) do not implement, so they are checked here: the div must be well-formed
XML, a ``<div>`` in the XHTML namespace, free of active content (scripts, forms, frames, embedded
objects, document-level elements) and of event-handler attributes, and it must not be blank.
HTML named entities such as ``&nbsp;`` are accepted, as the reference tooling does.
"""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from functools import lru_cache

__all__ = ["check_div"]

_XHTML = "{http://www.w3.org/1999/xhtml}"
_FORBIDDEN = frozenset(
    {
        "script", "noscript", "form", "input", "button", "select", "option", "optgroup", "textarea",
        "label", "fieldset", "legend", "iframe", "frame", "frameset", "object", "embed", "applet",
        "param", "base", "link", "meta", "style", "head", "body", "html", "title",
    }
)  # fmt: skip


_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _numeric_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    point = html.entities.name2codepoint.get(name)
    return match.group(0) if point is None or name in _XML_ENTITIES else f"&#{point};"


def _parse(div: str) -> ET.Element:
    return ET.fromstring(_ENTITY.sub(_numeric_entity, div))


def _content_problem(root: ET.Element) -> str | None:
    has_content = False
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        if not tag.startswith(_XHTML):
            return "The narrative contains an element outside the XHTML namespace"
        if local in _FORBIDDEN:
            return f"The narrative contains a forbidden <{local}> element"
        for attribute in element.attrib:
            if attribute.rsplit("}", 1)[-1].lower().startswith("on"):
                return "The narrative contains an event-handler attribute"
        if local == "img" or (element.text or "").strip() or (element.tail or "").strip():
            has_content = True
    return None if has_content else "The narrative has no content (txt-2)"


@lru_cache(maxsize=4096)
def check_div(div: str) -> str | None:
    """``None`` when the narrative div is acceptable, else a message saying what is wrong."""
    try:
        root = _parse(div)
    except ET.ParseError:
        return "The narrative is not well-formed XHTML"
    if root.tag != _XHTML + "div":
        return 'The narrative must be a <div xmlns="http://www.w3.org/1999/xhtml">'
    return _content_problem(root)
