"""FHIR XML element tree → the FHIR JSON tree (the walk over an already parsed, safe lxml tree).

Everything the FHIR XML rules forbid is an :class:`~bindeled.errors.InvalidRequest` whose location
is the FHIRPath of the offending element: unknown or misplaced elements and attributes, elements
in the wrong namespace or out of definition order, a single-valued element given twice, text where
only elements may stand, bad ``boolean`` / ``integer`` / ``decimal`` lexical forms, empty elements,
and resource wrappers without exactly one resource inside. Values never appear in messages.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from ..errors import InvalidRequest
from ._xmldiv import XHTML_DIV, raw_divs, serialise_div, verbatim_div
from ._xmlschema import FHIR_NS, Child, Kind, Node, Schema

__all__ = ["MAX_DEPTH", "Reader"]

MAX_DEPTH = 128
"""Deepest nesting of FHIR elements accepted (each element, wrapper and resource counts one)."""

_F = "{" + FHIR_NS + "}"
_F_LEN = len(_F)
_DIV = XHTML_DIV
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_WS = " \t\r\n"


def _show(name: str) -> str:
    """An element or attribute name fit for a message (bounded, never a value)."""
    return name if len(name) <= 64 else name[:61] + "..."


def _check_text(text: str | None, path: str) -> None:
    if text and text.strip(_WS):
        raise InvalidRequest("Text content is not allowed here; FHIR values go in value attributes", location=(path,))


def _skip(node: Any, path: str) -> bool:
    """True for a comment (ignored); raises for processing instructions and entity references."""
    if node.tag is etree.Comment:
        return True
    kind = "A processing instruction" if node.tag is etree.ProcessingInstruction else "An entity reference"
    raise InvalidRequest(f"{kind} is not allowed in FHIR XML", location=(path,))


class Reader:
    """Turns one parsed FHIR XML document into its JSON tree."""

    def __init__(self, schema: Schema, source: Callable[[], str | None]) -> None:
        """``source`` gives the document's text (None if unknown), for narratives taken verbatim."""
        self.schema = schema
        self._source = source
        self._text: str | None = None
        self._raw: list[str] | None = None
        self._divs = 0

    def resource(self, el: Any, path: str, depth: int) -> dict[str, Any]:
        """A resource element (``<Patient>``) → ``{"resourceType": "Patient", ...}``."""
        name = self._resource_name(el, path)
        path = path or name
        obj: dict[str, Any] = {"resourceType": name}
        self._fill(el, self.schema.node(name), obj, path, depth)
        return obj

    def _resource_name(self, el: Any, path: str) -> str:
        tag = el.tag
        if not isinstance(tag, str) or not tag.startswith(_F):
            raise InvalidRequest(
                "Expected a FHIR resource element in the namespace http://hl7.org/fhir", location=(path or "/",)
            )
        name: str = tag[_F_LEN:]
        if name not in self.schema.resource_types:
            raise InvalidRequest(f"<{_show(name)}> is not a FHIR R4 resource type", location=(path or name,))
        return name

    # -- elements -------------------------------------------------------------------------------

    def _fill(self, el: Any, node: Node, obj: dict[str, Any], path: str, depth: int) -> None:
        """Read the attributes and child elements of ``el`` into ``obj``, per ``node``."""
        if depth > MAX_DEPTH:
            raise InvalidRequest(f"The XML nests deeper than {MAX_DEPTH} elements", location=(path,))
        if el.keys():
            self._attributes(el, node, obj, path)
        _check_text(el.text, path)
        by_tag = node.by_tag
        last_order, last_name = -1, ""
        counts: dict[str, int] = {}
        for child in el:
            _check_text(child.tail, path)
            spec = by_tag.get(child.tag)
            if spec is None:
                if not isinstance(child.tag, str) and _skip(child, path):
                    continue
                self._unknown(child.tag, node, path)
                continue  # not reached: _unknown always raises
            name = spec.name
            if spec.order <= last_order and (spec.order < last_order or name != last_name or not spec.is_array):
                what = "is out of order" if spec.order < last_order else "may appear only once"
                raise InvalidRequest(f"Element <{name}> {what} here", location=(f"{path}.{name}",))
            last_order, last_name = spec.order, name
            if spec.is_array:
                index = counts[name] = counts.get(name, -1) + 1
                if spec.kind is Kind.PRIMITIVE:
                    value, ext = self._primitive(child, spec, path, index, depth)
                    obj.setdefault(name, []).append(value)
                    obj.setdefault("_" + name, []).append(ext)
                else:
                    obj.setdefault(name, []).append(self._value(child, spec, f"{path}.{name}[{index}]", depth))
            elif spec.kind is Kind.PRIMITIVE:
                value, ext = self._primitive(child, spec, path, -1, depth)
                if value is not None:
                    obj[name] = value
                if ext is not None:
                    obj["_" + name] = ext
            else:
                obj[name] = self._value(child, spec, f"{path}.{name}", depth)
        if counts:
            _prune(obj, counts)

    @staticmethod
    def _unknown(tag: str, node: Node, path: str) -> None:
        """Explain why a child element is not allowed here (always raises)."""
        if tag.startswith(_F):
            name = tag[_F_LEN:]
            spec = node.children.get(name)
            if spec is not None and spec.kind is Kind.XHTML:
                raise InvalidRequest("The narrative <div> must be in the XHTML namespace", location=(f"{path}.div",))
            raise InvalidRequest(f"Unknown element <{_show(name)}>", location=(f"{path}.{name}",))
        if tag == _DIV:
            raise InvalidRequest("An XHTML <div> is only allowed as Narrative.div", location=(path,))
        raise InvalidRequest(f"Element {_show(tag)} is not in the FHIR namespace http://hl7.org/fhir", location=(path,))

    def _value(self, el: Any, spec: Child, path: str, depth: int) -> Any:
        if spec.kind is Kind.COMPLEX:
            obj: dict[str, Any] = {}
            self._fill(el, self.schema.node(spec.content), obj, path, depth + 1)
            if not obj:
                raise InvalidRequest(f"Element <{spec.name}> is empty", location=(path,))
            return obj
        if spec.kind is Kind.RESOURCE:
            return self._wrapped(el, path, depth + 1)
        return self._xhtml(el, path)

    def _primitive(
        self, el: Any, spec: Child, parent: str, index: int, depth: int
    ) -> tuple[Any, dict[str, Any] | None]:
        """A primitive's JSON value and its ``_name`` object (id and extensions), either may be None."""
        if len(el) == 0 and el.keys() == ["value"] and not (el.text and el.text.strip(_WS)):
            try:
                return _typed(el.get("value"), spec), None
            except ValueError:
                pass  # the slow path below reports it with its location
        path = f"{parent}.{spec.name}" if index < 0 else f"{parent}.{spec.name}[{index}]"
        obj: dict[str, Any] = {}
        self._fill(el, self.schema.node(spec.content), obj, path, depth + 1)
        value = obj.pop("value", None)
        if value is None and not obj:
            raise InvalidRequest(f"Element <{spec.name}> has neither a value nor extensions", location=(path,))
        return value, obj or None

    # -- attributes -----------------------------------------------------------------------------

    def _attributes(self, el: Any, node: Node, obj: dict[str, Any], path: str) -> None:
        for key, raw in el.attrib.items():
            if key.startswith(_XSI):
                continue
            spec = node.children.get(key)
            if spec is None or spec.kind is not Kind.ATTR:
                if key == "value":
                    raise InvalidRequest("A value attribute is only allowed on primitive elements", location=(path,))
                raise InvalidRequest(f"Unknown attribute '{_show(key)}'", location=(path,))
            obj[key] = _convert(raw, spec, path)

    # -- resources and narrative ----------------------------------------------------------------

    def _wrapped(self, el: Any, path: str, depth: int) -> dict[str, Any]:
        """``<contained><Patient>…</Patient></contained>``: exactly one resource inside."""
        if el.attrib:
            raise InvalidRequest("A resource wrapper element takes no attributes", location=(path,))
        _check_text(el.text, path)
        inner = None
        for child in el:
            _check_text(child.tail, path)
            if not isinstance(child.tag, str) and _skip(child, path):
                continue
            if inner is not None:
                raise InvalidRequest("A resource wrapper element must hold exactly one resource", location=(path,))
            inner = child
        if inner is None:
            raise InvalidRequest("A resource wrapper element must hold exactly one resource", location=(path,))
        return self.resource(inner, path, depth + 1)

    def _xhtml(self, el: Any, path: str) -> str:
        """The div as a string: as written in the source if possible (see :mod:`._xmldiv`)."""
        for _ in el.iter(etree.ProcessingInstruction, etree.Entity):
            raise InvalidRequest("The narrative may not hold processing instructions or entities", location=(path,))
        index, self._divs = self._divs, self._divs + 1
        if self._text is None:
            self._text = self._source() or ""
        normalised = serialise_div(el)
        if normalised in self._text:
            return normalised  # written in the source exactly as lxml writes it: the common case
        if self._raw is None:
            self._raw = list(raw_divs(self._text))
        raw = self._raw[index] if index < len(self._raw) else None
        return verbatim_div(raw, normalised) or normalised


def _prune(obj: dict[str, Any], counts: dict[str, int]) -> None:
    """Drop the all-null halves of primitive arrays (``given`` without ``_given`` and back)."""
    for name in counts:
        for key in (name, "_" + name):
            items = obj.get(key)
            if items is not None and all(item is None for item in items):
                del obj[key]


def _typed(raw: str, spec: Child) -> Any:
    """An attribute's text → its JSON value (bool, int, Decimal or str); ValueError if malformed."""
    kind = spec.json_type
    if kind == "str":
        if raw == "":
            raise ValueError("empty")
        return raw
    if spec.lexical is not None and spec.lexical.fullmatch(raw) is None:
        raise ValueError("lexical")
    if kind == "bool":
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    if kind == "int":
        return int(raw)
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError("decimal") from None


def _convert(raw: str, spec: Child, path: str) -> Any:
    """:func:`_typed`, with a located error for the caller."""
    try:
        return _typed(raw, spec)
    except ValueError:
        what = "must not be empty" if raw == "" else f"is not a valid {spec.type_code}"
        raise InvalidRequest(f"The {spec.name} attribute {what}", location=(path,)) from None
