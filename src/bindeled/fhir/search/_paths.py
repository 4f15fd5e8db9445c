"""Compile SearchParameter FHIRPath expressions into fast extractors over JSON trees.

Almost every official expression is a union of simple paths with a few filters:
``Observation.subject.where(resolve() is Patient)``, ``(Observation.value as Quantity)``,
``Condition.abatement.as(Age)``, ``Bundle.entry[0].resource``,
``Patient.telecom.where(system='phone')``. Those are compiled here into a small list of steps that
walk the resource's JSON, using the element definitions to know which elements are choices
(``value[x]`` → ``valueQuantity``) and what type each value has. Anything else falls back to
``fhirpathpy`` (compiled once), whose results carry no type information.

An extractor returns :class:`Node` s: a JSON value with its FHIR type name when known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import fhirpathpy
from fhirpathpy.models import models as _fhirpath_models

from ..definitions import Definitions

__all__ = ["Extractor", "Node", "compile_expression"]


class Node(NamedTuple):
    """One value an expression selected, with its FHIR type (None when not known).

    A named tuple rather than a frozen dataclass: extraction makes dozens per resource indexed, and a
    tuple is built in less than half the time (the bulk load's hot path).
    """

    value: Any
    type: str | None
    context: str | None = None
    """The definitions path under which its children are found (``Patient.contact``, ``HumanName``)."""
    path: str | None = None
    """The element it was found at (``Patient.gender``), for its binding."""


Extractor = Callable[[dict[str, Any]], list[Node]]


class _Unsupported(Exception):
    """The expression uses FHIRPath beyond the compiled subset."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>!=|[()|.\[\]=]))"
)


def _tokens(expression: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unsupported(expression)
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
    return out


# A compiled expression is a union of pipelines; a pipeline is a list of steps.
Step = tuple[str, str]  # (kind, argument): child, where-resolve, where-eq, as, first
Pipeline = tuple[str, tuple[Step, ...]]  # (root name, steps)


class _Parser:
    def __init__(self, tokens: list[str], *, relative: bool = False) -> None:
        self.toks = tokens
        self.i = 0
        self.relative = relative

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _Unsupported(f"expected {expected}")
        self.i += 1
        return tok

    def union(self) -> list[Pipeline]:
        out = self.term()
        while self.peek() == "|":
            self.take()
            out += self.term()
        return out

    def term(self) -> list[Pipeline]:
        if self.peek() == "(":
            self.take()
            inner = self.union()
            self.take(")")
        else:
            inner = [self.path()]
        extra = self.postfix()
        if self.peek() == "as":
            self.take()
            extra = (*extra, ("as", self.name()))
            extra = (*extra, *self.postfix())
        if self.peek() in ("=", "!="):
            op = self.take()
            literal = self.take()
            if literal not in ("true", "false"):
                raise _Unsupported(literal)
            extra = (*extra, ("compare", f"{op}{literal}"))
        return [(root, steps + extra) for root, steps in inner]

    def name(self) -> str:
        tok = self.take()
        if not re.fullmatch(r"[A-Za-z_]\w*", tok):
            raise _Unsupported(tok)
        return tok

    def path(self) -> Pipeline:
        root = self.name()
        if self.relative and root[0].islower() and self.peek() != "(":
            return "", (("child", root), *self.postfix())
        if not root[0].isupper():
            raise _Unsupported(root)
        return root, self.postfix()

    def postfix(self) -> tuple[Step, ...]:
        steps: list[Step] = []
        while self.peek() in (".", "["):
            if self.take() == "[":
                if self.take() != "0":
                    raise _Unsupported("index")
                self.take("]")
                steps.append(("first", ""))
                continue
            name = self.name()
            if self.peek() != "(":
                steps.append(("child", name))
                continue
            steps.append(self.function(name))
        return tuple(steps)

    def function(self, name: str) -> Step:
        self.take("(")
        if name == "exists" and self.peek() == ")":
            step: Step = ("exists", "")
        elif name in ("as", "ofType"):
            step = ("as", self.name())
        elif name == "where" and self.peek() == "resolve":
            self.take()
            self.take("(")
            self.take(")")
            self.take("is")
            step = ("resolve-is", self.name())
        elif name == "where":
            field = self.name()
            self.take("=")
            literal = self.take()
            if not literal.startswith("'"):
                raise _Unsupported(literal)
            step = ("where-eq", f"{field}={literal[1:-1]}")
        else:
            raise _Unsupported(name)
        self.take(")")
        return step


def _parse(expression: str) -> list[list[Pipeline]]:
    """The ``and``-ed parts of an expression, each a union of pipelines (usually just one part)."""
    parser = _Parser(_tokens(expression))
    parts = [parser.union()]
    while parser.peek() == "and":
        parser.take()
        parts.append(parser.union())
    if parser.peek() is not None:
        raise _Unsupported(expression)
    return parts


_RESOURCE_TYPES = ("Resource", "DomainResource")


class _Schema:
    """Cached child lookups in the element definitions."""

    def __init__(self, definitions: Definitions) -> None:
        self.defs = definitions
        self.child = lru_cache(maxsize=None)(self._child)

    def _child(self, context: str, name: str) -> tuple[bool, tuple[tuple[str, str, str], ...]] | None:
        """(is_choice, ((json key, type, child context), …)) for ``context.name``; None if unknown."""
        try:
            info = self.defs.element(f"{context}.{name}") or self.defs.element(f"{context}.{name}[x]")
        except KeyError:
            return None
        if info is None:
            return None
        choices: list[tuple[str, str, str]] = []
        for key, tref in info.json_names():
            code = tref.code
            if info.content_reference:
                sub = info.content_reference
            elif code in ("BackboneElement", "Element"):
                sub = info.path
            else:
                sub = code
            choices.append((key, code, sub))
        if not info.is_choice and not info.types and info.content_reference:
            choices = [(name, "BackboneElement", info.content_reference)]
        return info.is_choice, tuple(choices)


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        yield from (v for v in value if v is not None)
    elif value is not None:
        yield value


def _child_nodes(schema: _Schema, nodes: list[Node], name: str) -> list[Node]:
    """The ``name`` children of every node, typed from the definitions where the context is known."""
    out: list[Node] = []
    child = schema.child
    for node in nodes:
        value = node.value
        if not isinstance(value, dict):
            continue
        context = node.context
        if context in _RESOURCE_TYPES or (context is None and "resourceType" in value):
            context = value.get("resourceType")
        found = child(context, name) if context else None
        if found is None:
            out.extend(Node(item, None, None) for item in _flatten(value.get(name)))
            continue
        path = None
        for key, type_code, sub in found[1]:
            if key not in value:
                continue
            path = path or f"{context}.{name}"
            found_value = value[key]
            if type_code == "Resource":
                ctx = found_value.get("resourceType") if isinstance(found_value, dict) else sub
                for item in _flatten(found_value):
                    item_ctx = item.get("resourceType", ctx) if isinstance(item, dict) else ctx
                    out.append(Node(item, type_code, item_ctx, path))
            elif isinstance(found_value, list):
                out.extend(Node(item, type_code, sub, path) for item in found_value if item is not None)
            elif found_value is not None:
                out.append(Node(found_value, type_code, sub, path))
    return out


def _reference_type(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    ref = value.get("reference")
    if isinstance(ref, str) and "/" in ref:
        parts = ref.split("/")
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        return parts[-2] if len(parts) >= 2 else None
    kind = value.get("type")
    return kind if isinstance(kind, str) else None


def _same_type(node_type: str | None, wanted: str) -> bool:
    if node_type is None:
        return True
    return node_type == wanted or node_type.lower() == wanted.lower()


def _apply(schema: _Schema, nodes: list[Node], step: Step) -> list[Node]:
    kind, arg = step
    if kind == "child":
        return _child_nodes(schema, nodes, arg)
    if kind == "as":
        return [n for n in nodes if _same_type(n.type, arg)]
    if kind == "resolve-is":
        return [n for n in nodes if _reference_type(n.value) == arg]
    if kind == "exists":
        return [Node(bool(nodes), "boolean")]
    if kind == "compare":
        return _compare(nodes, arg)
    if kind == "where-eq":
        field, _, literal = arg.partition("=")
        return [n for n in nodes if isinstance(n.value, dict) and literal in _flatten(n.value.get(field))]
    return nodes[:1]


def _compare(nodes: list[Node], arg: str) -> list[Node]:
    """FHIRPath ``= true|false`` / ``!= true|false``: empty stays empty, other types are unequal."""
    if not nodes:
        return []
    literal = arg.endswith("true")
    equal = len(nodes) == 1 and isinstance(nodes[0].value, bool) and nodes[0].value == literal
    return [Node(equal if arg.startswith("=") else not equal, "boolean")]


def _truth(nodes: list[Node]) -> bool | None:
    if len(nodes) == 1 and isinstance(nodes[0].value, bool):
        return nodes[0].value
    return None if not nodes else True


def _compiled(schema: _Schema, parts: list[list[Pipeline]]) -> Extractor:
    if len(parts) == 1:
        return _union(schema, parts[0])
    evaluators = [_union(schema, part) for part in parts]

    def conjunction(resource: dict[str, Any]) -> list[Node]:
        truths = [_truth(e(resource)) for e in evaluators]
        if False in truths:
            return [Node(False, "boolean")]
        return [Node(True, "boolean")] if None not in truths else []

    return conjunction


_NEEDS_EMPTY = frozenset({"exists", "compare"})


def _first_keys(schema: _Schema, rtype: Any, steps: tuple[Step, ...]) -> frozenset[str] | None:
    """The JSON keys a pipeline's first step reads: when none is present it yields nothing.

    None when that shortcut does not hold (no leading child step, or a step that turns an empty
    collection into a value, like ``exists()``).
    """
    if not steps or steps[0][0] != "child" or not isinstance(rtype, str):
        return None
    if any(kind in _NEEDS_EMPTY for kind, _ in steps):
        return None
    found = schema.child(rtype, steps[0][1])
    return frozenset(key for key, _, _ in found[1]) if found else frozenset({steps[0][1]})


def _union(schema: _Schema, pipelines: list[Pipeline]) -> Extractor:
    # Official expressions are unions over many resource types (``Observation.code | Condition.code
    # | …``); only the resource's own pipelines (and Resource/DomainResource ones) ever run.
    by_root: dict[str, list[tuple[Step, ...]]] = {}
    for root, steps in pipelines:
        by_root.setdefault(root, []).append(steps)
    common = [steps for root in _RESOURCE_TYPES for steps in by_root.get(root, ())]

    plans: dict[Any, list[tuple[tuple[Step, ...], frozenset[str] | None, bool]]] = {}

    def plan(rtype: Any) -> list[tuple[tuple[Step, ...], frozenset[str] | None, bool]]:
        """Per pipeline: its steps, the keys it needs (see _first_keys) and whether an empty result is final."""
        own = by_root.get(rtype, []) if isinstance(rtype, str) else []
        found = plans[rtype] = [
            (steps, _first_keys(schema, rtype, steps), not any(kind in _NEEDS_EMPTY for kind, _ in steps))
            for steps in (*common, *own)
        ]
        return found

    def extract(resource: dict[str, Any]) -> list[Node]:
        rtype = resource.get("resourceType")
        out: list[Node] = []
        present = resource.keys()
        root: list[Node] | None = None
        for steps, keys, empty_is_final in plans.get(rtype) or plan(rtype):
            if keys is not None and keys.isdisjoint(present):
                continue
            nodes = root = root or [Node(resource, rtype, rtype)]
            for step in steps:
                nodes = _apply(schema, nodes, step)
                if not nodes and empty_is_final:
                    break
            out.extend(nodes)
        return out

    return extract


def _fallback(expression: str) -> Extractor:
    evaluate = fhirpathpy.compile(expression, _fhirpath_models["r4"])

    def extract(resource: dict[str, Any]) -> list[Node]:
        try:
            result = evaluate(resource, None)
        except Exception:
            return []
        return [Node(v, None, None) for v in result if v is not None]

    return extract


_schemas: dict[int, _Schema] = {}


def compile_expression(expression: str, definitions: Definitions) -> tuple[Extractor, bool]:
    """An extractor for ``expression`` and whether it is compiled (False: the fhirpathpy fallback)."""
    schema = _schemas.get(id(definitions))
    if schema is None:
        schema = _schemas[id(definitions)] = _Schema(definitions)
    try:
        return _compiled(schema, _parse(expression)), True
    except _Unsupported:
        return _fallback(expression), False


def compile_relative(expression: str, definitions: Definitions) -> tuple[Callable[[Node], list[Node]], bool]:
    """An extractor for an expression relative to a node (composite components)."""
    schema = _schemas.get(id(definitions))
    if schema is None:
        schema = _schemas[id(definitions)] = _Schema(definitions)
    try:
        parser = _Parser(_tokens(expression), relative=True)
        pipelines = parser.union()
        if parser.peek() is not None:
            raise _Unsupported(expression)
    except _Unsupported:
        evaluate = fhirpathpy.compile(expression, _fhirpath_models["r4"])

        def fallback(node: Node) -> list[Node]:
            try:
                return [Node(v, None, None) for v in evaluate(node.value, None) if v is not None]
            except Exception:
                return []

        return fallback, False

    def extract(node: Node) -> list[Node]:
        out: list[Node] = []
        for _root, steps in pipelines:
            nodes = [node]
            for step in steps:
                nodes = _apply(schema, nodes, step)
            out.extend(nodes)
        return out

    return extract, True
