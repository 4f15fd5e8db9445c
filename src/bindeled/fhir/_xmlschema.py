"""The FHIR XML view of the R4 definitions, compiled once per type or backbone path.

Reading and writing FHIR XML both need the same facts about every element: its XML/JSON name
(``valueQuantity`` for a choice), its place in the definition order (the XML order), whether it
repeats, and how it is represented: an XML attribute (``Element.id``, ``Extension.url``, a
primitive's ``value``), a primitive element, a complex element, a resource wrapper (``contained``,
``Bundle.entry.resource``) or embedded XHTML (``Narrative.div``). :class:`Schema` derives them from
:class:`~bindeled.fhir.definitions.Definitions` lazily and keeps them per node key, where a node
key is a type name (``HumanName``, ``boolean``) or an element path whose children are defined
in place (``Bundle.entry``).
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from enum import IntEnum

from .definitions import Definitions, ElementInfo, TypeRef

__all__ = ["FHIR_NS", "XHTML_NS", "Child", "Kind", "Node", "Schema", "schema_for"]

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"

_JSON_TYPES = {
    "boolean": "bool",
    "integer": "int",
    "positiveInt": "int",
    "unsignedInt": "int",
    "decimal": "decimal",
}
"""FHIR primitive types whose JSON form is not a string (json.html#primitive)."""

_RESOURCE_BASES = frozenset({"Resource", "DomainResource"})


class Kind(IntEnum):
    """How an element is represented in XML."""

    ATTR = 0
    PRIMITIVE = 1
    COMPLEX = 2
    RESOURCE = 3
    XHTML = 4


@dataclass(frozen=True, slots=True)
class Child:
    """One child name of a node: everything needed to read or write it."""

    name: str
    kind: Kind
    type_code: str
    content: str
    """Node key whose children apply: the type name, or the element path for backbone elements."""
    is_array: bool
    order: int
    """Index of the element in definition order; the variants of a choice share one."""
    json_type: str
    """``bool``, ``int``, ``decimal`` or ``str`` for primitives and attributes."""
    lexical: re.Pattern[str] | None
    """The lexical form a non-string primitive must match (from the type's definition)."""


@dataclass(frozen=True, slots=True)
class Node:
    """The children of one type or backbone path, by name."""

    key: str
    children: dict[str, Child]
    by_tag: dict[str, Child]
    """The element children by their qualified XML tag (``{http://hl7.org/fhir}name``)."""


class Schema:
    """Compiled :class:`Node` tables for one :class:`Definitions`, built on first use."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self.resource_types = definitions.resource_types
        self._primitives = definitions.primitive_types
        self._nodes: dict[str, Node] = {}
        self._lexical: dict[str, re.Pattern[str] | None] = {}
        self._lock = threading.Lock()

    def node(self, key: str) -> Node:
        """The node for a type name or element path; KeyError if the definitions have none."""
        found = self._nodes.get(key)
        if found is None:
            found = self._build(key)
            with self._lock:
                self._nodes[key] = found
        return found

    def _build(self, key: str) -> Node:
        infos = self.definitions.children(key)
        if not infos:
            raise KeyError(key)
        children: dict[str, Child] = {}
        for order, info in enumerate(infos):
            for name, ref in info.json_names():
                children[name] = self._child(info, name, ref, order, key)
        by_tag = {
            "{" + (XHTML_NS if c.kind is Kind.XHTML else FHIR_NS) + "}" + c.name: c
            for c in children.values()
            if c.kind is not Kind.ATTR
        }
        return Node(key, children, by_tag)

    def _child(self, info: ElementInfo, name: str, ref: TypeRef, order: int, owner: str) -> Child:
        # A primitive's value attribute has the primitive's own type; R4 declares some of them
        # (positiveInt, unsignedInt) as plain System.String.
        code = owner if name == "value" and owner in self._primitives else ref.code
        kind, content = self._kind(info, code)
        json_type = _JSON_TYPES.get(code, "str")
        lexical = self._lexical_for(code) if json_type != "str" else None
        return Child(name, kind, code, content, info.is_array, order, json_type, lexical)

    def _kind(self, info: ElementInfo, code: str) -> tuple[Kind, str]:
        if "xmlAttr" in (info.raw.get("representation") or ()):
            return Kind.ATTR, code
        if info.content_reference:
            return Kind.COMPLEX, info.content_reference
        if code == "xhtml":
            return Kind.XHTML, code
        if code in self._primitives:
            return Kind.PRIMITIVE, code
        if code in _RESOURCE_BASES or code in self.resource_types:
            return Kind.RESOURCE, code
        if self.definitions.children(info.path):
            return Kind.COMPLEX, info.path
        return Kind.COMPLEX, code

    def _lexical_for(self, code: str) -> re.Pattern[str] | None:
        if code not in self._lexical:
            regex = next((e.regex for e in self.definitions.children(code) if e.name == "value"), None)
            self._lexical[code] = re.compile(regex) if regex else None
        return self._lexical[code]


_schemas: weakref.WeakKeyDictionary[Definitions, Schema] = weakref.WeakKeyDictionary()
_schemas_lock = threading.Lock()


def schema_for(definitions: Definitions) -> Schema:
    """The (cached) XML schema of a set of definitions."""
    found = _schemas.get(definitions)
    if found is None:
        with _schemas_lock:
            found = _schemas.get(definitions)
            if found is None:
                found = _schemas[definitions] = Schema(definitions)
    return found
