"""The FHIR JSON tree → FHIR XML text.

The XML is built as text, not as an lxml tree: it is faster, and it lets the narrative ``div`` go
out exactly as the JSON holds it (after checking that it is one well-formed XHTML ``<div>``, so it
cannot smuggle markup into the document). Children are written in definition order whatever the
order of the JSON keys; anything the definitions do not know, or a JSON value of the wrong shape
or type, is an :class:`~bindeled.errors.InvalidRequest` located by FHIRPath.
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise
from typing import Any

from ..errors import InvalidRequest
from ._xmldiv import check_div
from ._xmlschema import Child, Kind, Node, Schema

__all__ = ["MAX_DEPTH", "Writer"]

MAX_DEPTH = 128
"""Deepest nesting of JSON objects written (each element, wrapper and resource counts one)."""

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def _show(key: Any) -> str:
    """A JSON key fit for a message (bounded)."""
    text = str(key)
    return text if len(text) <= 64 else text[:61] + "..."


def _escape(text: str, path: str) -> str:
    """Text for a double-quoted attribute; tabs and line breaks as references so they survive."""
    if _SPECIAL.search(text) is None:
        return text
    if _NOT_XML.search(text) is not None:
        raise InvalidRequest("The value holds a character that XML cannot carry", location=(path,))
    return text.translate(_ESCAPES)


def _attribute_text(value: Any, spec: Child, path: str) -> str:
    """A JSON primitive → the text of its XML attribute, checking its JSON type and lexical form."""
    kind = spec.json_type
    if kind == "str":
        if isinstance(value, str) and value:
            return _escape(value, path)
        raise InvalidRequest(f"Expected a non-empty string for {spec.type_code}", location=(path,))
    if kind == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
    elif isinstance(value, bool):
        pass
    elif (kind == "int" and isinstance(value, int)) or (kind == "decimal" and isinstance(value, int | float | Decimal)):
        text = _number_text(value)
        if text is not None and (spec.lexical is None or spec.lexical.fullmatch(text)):
            return text
    raise InvalidRequest(f"The value is not a valid {spec.type_code}", location=(path,))


def _number_text(value: float | Decimal) -> str | None:
    """A number as FHIR writes it (None past Python's limit on integer digits)."""
    try:
        return repr(value) if isinstance(value, float) else str(value)
    except ValueError:
        return None


class Writer:
    """Writes one resource (with everything inside it) as FHIR XML."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.out: list[str] = []

    def document(self, resource: Any) -> bytes:
        """The whole document: declaration, then the resource with the FHIR namespace declared."""
        self.out = [_DECLARATION]
        self.resource(resource, "", 0)
        try:
            return "".join(self.out).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest("The resource holds text that is not valid Unicode", location=("/",)) from None

    def resource(self, obj: Any, path: str, depth: int) -> None:
        if not isinstance(obj, dict):
            raise InvalidRequest("Expected a resource (a JSON object)", location=(path or "/",))
        name = obj.get("resourceType")
        if not isinstance(name, str) or name not in self.schema.resource_types:
            raise InvalidRequest("resourceType is missing or not an R4 resource type", location=(path or "/",))
        node = self.schema.node(name)
        self._element(name, obj, node, path or name, depth, is_resource=True, xmlns=not path)

    # -- elements -------------------------------------------------------------------------------

    def _element(
        self,
        name: str,
        obj: dict[str, Any],
        node: Node,
        path: str,
        depth: int,
        *,
        value: str | None = None,
        is_resource: bool = False,
        xmlns: bool = False,
    ) -> None:
        """``<name attrs…>children…</name>``; ``value`` is a primitive's value attribute, if any."""
        if depth > MAX_DEPTH:
            raise InvalidRequest(f"The resource nests deeper than {MAX_DEPTH} levels", location=(path,))
        attrs, kids = self._sort(obj, node, path, is_resource)
        if value is None and not attrs and not kids and not is_resource:
            raise InvalidRequest("An element must have a value or children", location=(path,))
        out = self.out
        out.append("<" + name)
        if xmlns:
            out.append(' xmlns="http://hl7.org/fhir"')
        if value is not None:
            out.append(f' value="{value}"')
        out.extend(attrs)
        if not kids:
            out.append("/>")
            return
        out.append(">")
        for spec in kids:
            self._child(obj, spec, path, depth)
        out.append(f"</{name}>")

    def _sort(self, obj: dict[str, Any], node: Node, path: str, is_resource: bool) -> tuple[list[str], list[Child]]:
        """The attribute texts and the element children of ``obj``, the latter in definition order."""
        attrs: list[tuple[int, str]] = []
        kids: list[Child] = []
        children = node.children
        for key, value in obj.items():
            spec = children.get(key)
            if spec is None:
                if is_resource and key == "resourceType":
                    continue
                spec = self._partner(key, obj, children, path)
                if spec is None:
                    continue
            elif spec.kind is Kind.ATTR:
                attrs.append((spec.order, f' {key}="{_attribute_text(value, spec, f"{path}.{key}")}"'))
                continue
            kids.append(spec)
        kids.sort(key=lambda c: c.order)
        for before, after in pairwise(kids):
            if before.order == after.order:
                raise InvalidRequest(
                    f"Only one of {before.name} and {after.name} may be given", location=(f"{path}.{after.name}",)
                )
        attrs.sort()
        return [text for _, text in attrs], kids

    @staticmethod
    def _partner(key: Any, obj: dict[str, Any], children: dict[str, Child], path: str) -> Child | None:
        """The primitive a ``_name`` key belongs to, when only that half is there (else None)."""
        name = key[1:] if isinstance(key, str) and key.startswith("_") else None
        spec = children.get(name) if name else None
        if spec is None or spec.kind is not Kind.PRIMITIVE:
            raise InvalidRequest(f"Unknown element '{_show(key)}'", location=(f"{path}.{_show(key)}",))
        return None if name in obj else spec

    def _child(self, obj: dict[str, Any], spec: Child, path: str, depth: int) -> None:
        name = spec.name
        if spec.kind is Kind.PRIMITIVE:
            values, exts = obj.get(name), obj.get("_" + name)
            if (values is None and name in obj) or (exts is None and "_" + name in obj):
                raise InvalidRequest("null is not allowed here", location=(f"{path}.{name}",))
            self._primitives(spec, values, exts, f"{path}.{name}", depth)
            return
        for item, item_path in self._items(obj[name], spec, f"{path}.{name}"):
            if spec.kind is Kind.COMPLEX:
                if not isinstance(item, dict):
                    raise InvalidRequest(f"Expected an object for {spec.type_code}", location=(item_path,))
                self._element(name, item, self.schema.node(spec.content), item_path, depth + 1)
            elif spec.kind is Kind.RESOURCE:
                self.out.append(f"<{name}>")
                self.resource(item, item_path, depth + 1)
                self.out.append(f"</{name}>")
            else:
                self.out.append(check_div(item, item_path))

    @staticmethod
    def _items(value: Any, spec: Child, path: str) -> list[tuple[Any, str]]:
        if not spec.is_array:
            if isinstance(value, list):
                raise InvalidRequest(f"{spec.name} is not an array", location=(path,))
            return [(value, path)]
        if not isinstance(value, list) or not value:
            raise InvalidRequest(f"{spec.name} must be a non-empty array", location=(path,))
        return [(item, f"{path}[{i}]") for i, item in enumerate(value)]

    # -- primitives -----------------------------------------------------------------------------

    def _primitives(self, spec: Child, values: Any, exts: Any, path: str, depth: int) -> None:
        if not spec.is_array:
            if isinstance(values, list) or isinstance(exts, list):
                raise InvalidRequest(f"{spec.name} is not an array", location=(path,))
            self._primitive(spec, values, exts, path, depth)
            return
        for half in (values, exts):
            if half is not None and (not isinstance(half, list) or all(item is None for item in half)):
                raise InvalidRequest(
                    f"{spec.name} must be an array that is neither empty nor all null", location=(path,)
                )
        if values is not None and exts is not None and len(values) != len(exts):
            raise InvalidRequest(f"{spec.name} and _{spec.name} must have the same length", location=(path,))
        for i in range(len(values if values is not None else exts)):
            value = values[i] if values is not None else None
            ext = exts[i] if exts is not None else None
            self._primitive(spec, value, ext, f"{path}[{i}]", depth)

    def _primitive(self, spec: Child, value: Any, ext: Any, path: str, depth: int) -> None:
        text = None if value is None else _attribute_text(value, spec, path)
        if ext is None:
            if text is None:
                raise InvalidRequest(f"{spec.name} has neither a value nor extensions", location=(path,))
            self.out.append(f'<{spec.name} value="{text}"/>')
            return
        if not isinstance(ext, dict) or "value" in ext or not ext:
            raise InvalidRequest(f"_{spec.name} must be an object with id and extensions", location=(path,))
        self._element(spec.name, ext, self.schema.node(spec.content), path, depth + 1, value=text)
