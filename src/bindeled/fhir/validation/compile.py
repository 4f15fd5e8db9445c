"""StructureDefinition → validation plan: a :class:`~.plan.Node` per complex element, with a
closure per element and type, built once per (StructureDefinition, element) and cached.

The same compiler serves the R4 base definitions and profiles (DK-core, MedCom): a profile's
snapshot is a complete tree, so compiling it yields a plan that checks everything the base does
plus the profile's tightened cardinality, fixed/pattern values, types, bindings and slicing.
"""

from __future__ import annotations

import threading
from typing import Any

from ..definitions import Definitions
from . import checks
from .invariants import CompiledInvariant, compile_invariant
from .plan import Ctx, ItemCheck, Node, Prop, Rule
from .primitives import PRIMITIVE_CHECKS
from .slicing import Slicing
from .slicing_compile import compile_slicing
from .tree import ElementTree
from .valuesets import ValueSetExpander
from .walk import walk_object

__all__ = ["Compiler", "type_code"]

_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_EXTENSION_TYPES = frozenset({"Extension"})
_BACKBONES = frozenset({"BackboneElement", "Element"})


def type_code(t: dict[str, Any]) -> str:
    """The FHIR type name of an ElementDefinition.type (System.String on ``id`` → ``string``)."""
    code = str(t.get("code", ""))
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", ()):
            if ext.get("url") == _FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return {"String": "string", "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal"}.get(
            code.rsplit(".", 1)[-1], "string"
        )
    return code


def _max(value: Any) -> int | None:
    return None if value in (None, "*") else int(value)


class Compiler:
    """Builds and caches plans. ``sources`` maps canonical URLs to StructureDefinitions with snapshots."""

    def __init__(
        self,
        definitions: Definitions,
        sources: dict[str, dict[str, Any]],
        expander: ValueSetExpander,
        *,
        fast_invariants: bool = True,
    ) -> None:
        self.definitions = definitions
        self.fast_invariants = fast_invariants
        self.sources = sources
        self.expander = expander
        self._trees: dict[str, ElementTree] = {}
        self._nodes: dict[tuple[str, str], Node] = {}
        self._roots: dict[str, tuple[Node, list[checks.ValueCheck]]] = {}
        self._lock = threading.RLock()

    # -- trees ----------------------------------------------------------------------------------

    def tree(self, type_or_url: str) -> ElementTree | None:
        """The element tree of a base type name or a profile / extension URL, if known."""
        key = type_or_url.split("|", 1)[0]
        found = self._trees.get(key)
        if found is not None:
            return found
        sd = self.sources.get(key) if "/" in key else self.definitions.base_types.get(key)
        if sd is None and "/" in key:
            sd = self.definitions.structure(key)
        if sd is None or "snapshot" not in sd:
            return None
        tree = ElementTree.build(sd)
        self._trees[key] = tree
        return tree

    def root(self, type_or_url: str) -> tuple[Node, list[checks.ValueCheck]] | None:
        """The plan of a whole resource/datatype/extension: its node and its root-level checks."""
        found = self._roots.get(type_or_url)
        if found is not None:
            return found
        tree = self.tree(type_or_url)
        if tree is None:
            return None
        with self._lock:
            node = self.node(tree, tree.root_id)
            root_el = tree.elements[tree.root_id]
            base = tree.type if self.definitions.base_types.get(tree.type) else root_el["path"]
            value_checks = self._value_checks(tree, root_el, tree.type, base, ())
            self._roots[type_or_url] = (node, value_checks)
        return node, value_checks

    # -- nodes ----------------------------------------------------------------------------------

    def node(self, tree: ElementTree, element_id: str) -> Node:
        """The plan for the children of one element of a tree (cached; recursion-safe)."""
        key = (tree.url, element_id)
        found = self._nodes.get(key)
        if found is not None:
            return found
        with self._lock:
            node = self._nodes[key] = Node()
            primitive = self._is_primitive(tree, element_id)
            for child_id in tree.children.get(element_id, ()):
                if primitive and child_id.endswith(".value"):
                    continue  # the value of a primitive is the JSON value, never a key of ``_name``
                self._add_child(node, tree, child_id)
        return node

    def _is_primitive(self, tree: ElementTree, element_id: str) -> bool:
        if element_id == tree.root_id:
            return tree.type in self.definitions.primitive_types
        types = tree.elements[element_id].get("type", ())
        return bool(types) and all(type_code(t) in PRIMITIVE_CHECKS for t in types)

    def _add_child(self, node: Node, tree: ElementTree, child_id: str) -> None:
        el = tree.elements[child_id]
        last = child_id.rsplit(".", 1)[-1].split(":", 1)[0]
        is_choice = last.endswith("[x]")
        name = last[:-3] if is_choice else last
        base_max = (el.get("base") or {}).get("max", el.get("max", "*"))
        types = [t for t in el.get("type", ()) if t.get("code")]
        rule = Rule(
            name=name,
            min=int(el.get("min", 0)),
            max=_max(el.get("max", "*")),
            is_array=base_max not in ("0", "1"),
            primitive=any(type_code(t) in PRIMITIVE_CHECKS for t in types),
            is_choice=is_choice,
        )
        node.rules.append(rule)
        if rule.min > 0:
            node.required.append(rule)
        if not types:
            ref = str(el.get("contentReference", "")).split("#", 1)[-1]
            target = self._by_path(tree, ref)
            check = self._complex(self.node(tree, target), []) if target else _accept
            node.props[name] = Prop(rule, "BackboneElement", check)
            return
        slices = {tree.elements[s].get("sliceName"): s for s in tree.slices.get(child_id, ())}
        for t in types:
            code = type_code(t)
            json_name = name + code[0].upper() + code[1:] if is_choice else name
            source = slices.get(json_name, child_id) if is_choice else child_id
            node.props[json_name] = Prop(rule, code, self.item_check(tree, source, t))
        if not is_choice and el.get("slicing") and child_id in tree.slices:
            rule.slicing = self._slicing(tree, child_id)

    def _slicing(self, tree: ElementTree, element_id: str) -> Slicing:
        def item_check_for(slice_id: str) -> ItemCheck:
            t = (tree.elements[slice_id].get("type") or [{}])[0]
            return self.item_check(tree, slice_id, t) if t.get("code") else _accept

        return compile_slicing(self, tree, element_id, item_check_for)

    @staticmethod
    def _by_path(tree: ElementTree, path: str) -> str | None:
        if path in tree.elements:
            return path
        for element_id, el in tree.elements.items():
            if el.get("path") == path and ":" not in element_id:
                return element_id
        return None

    # -- items ----------------------------------------------------------------------------------

    def item_check(self, tree: ElementTree, element_id: str, t: dict[str, Any]) -> ItemCheck:
        """The closure that checks one repetition of an element of type ``t``."""
        el = tree.elements[element_id]
        code = type_code(t)
        if code in PRIMITIVE_CHECKS:
            return self._primitive(tree, element_id, code)
        if code in ("Resource", "DomainResource") or self.definitions.is_resource_type(code):
            return _nested_resource(tuple(t.get("profile", ())), el["path"].endswith(".contained"))
        profile = next(iter(t.get("profile", ())), None)
        source = self._children_source(tree, element_id, code, profile)
        if source is None:
            return _accept
        child_tree, child_id = source
        roots = self._type_roots(tree, child_tree, child_id, code)
        base = code if code in self.definitions.complex_types and code not in _BACKBONES else el["path"]
        value_checks = self._value_checks(tree, el, code, base, roots, t)
        if code in _EXTENSION_TYPES:
            value_checks.append(checks.extension_value_check)
            if profile is None:
                return self._open_extension(self.node(child_tree, child_id), value_checks)
        return self._complex(self.node(child_tree, child_id), value_checks)

    def _children_source(
        self, tree: ElementTree, element_id: str, code: str, profile: str | None
    ) -> tuple[ElementTree, str] | None:
        """Where an element's children are defined: inline in the snapshot, in its type profile,
        or in its base type."""
        if tree.children.get(element_id):
            return tree, element_id
        for key in (profile, code):
            sub = self.tree(key) if key else None
            if sub is not None:
                return sub, sub.root_id
        return None

    def _type_roots(
        self, tree: ElementTree, child_tree: ElementTree, child_id: str, code: str
    ) -> tuple[dict[str, Any], ...]:
        """The root element(s) whose constraints apply to every value of the type (``per-1`` …)."""
        if child_tree is not tree:
            return (child_tree.elements[child_id],)
        base_tree = self.tree(code) if code not in _BACKBONES else None
        return (base_tree.elements[base_tree.root_id],) if base_tree is not None else ()

    def _primitive(self, tree: ElementTree, element_id: str, code: str) -> ItemCheck:
        el = tree.elements[element_id]
        lexical = PRIMITIVE_CHECKS[code]
        if tree.children.get(element_id):
            ext_node = self.node(tree, element_id)
        else:
            base = self.tree(code)
            ext_node = self.node(base, base.root_id) if base else Node()
        value_checks = self._value_checks(tree, el, code, el["path"], ())
        if code == "xhtml":
            value_checks.append(checks.narrative_check)

        def check(value: Any, ext: Any, path: str, ctx: Ctx) -> None:
            if value is not None:
                problem = lexical(value)
                if problem:
                    ctx.error("value", f"The value {problem} ({code})", path)
                else:
                    for value_check in value_checks:
                        value_check(value, path, ctx)
            if ext is not None:
                if not isinstance(ext, dict):
                    ctx.error("structure", "A primitive extension must be a JSON object", path)
                    return
                walk_object(ext, ext_node, path, ctx)
                if value is None and "extension" not in ext:
                    ctx.error(
                        "invariant", "Constraint failed: ele-1: an element needs a value or children", path, key="ele-1"
                    )

        return check

    def _complex(self, node: Node, value_checks: list[checks.ValueCheck]) -> ItemCheck:
        def check(value: Any, ext: Any, path: str, ctx: Ctx) -> None:
            if not isinstance(value, dict):
                ctx.error("structure", "This element must be a JSON object", path)
                return
            walk_object(value, node, path, ctx)
            if not value or (len(value) == 1 and "id" in value):
                ctx.error(
                    "invariant", "Constraint failed: ele-1: an element needs a value or children", path, key="ele-1"
                )
            for value_check in value_checks:
                value_check(value, path, ctx)

        return check

    def _open_extension(self, base_node: Node, value_checks: list[checks.ValueCheck]) -> ItemCheck:
        """An extension without a declared profile: use its definition when we know the URL."""
        base_check = self._complex(base_node, value_checks)

        def check(value: Any, ext: Any, path: str, ctx: Ctx) -> None:
            url = value.get("url") if isinstance(value, dict) else None
            known = self.root(url) if isinstance(url, str) and url in self.sources else None
            if known is None:
                base_check(value, ext, path, ctx)
                return
            node, root_checks = known
            self._complex(node, [*value_checks, *root_checks])(value, ext, path, ctx)

        return check

    def _value_checks(
        self,
        tree: ElementTree,
        el: dict[str, Any],
        code: str,
        base: str,
        roots: tuple[dict[str, Any], ...],
        t: dict[str, Any] | None = None,
    ) -> list[checks.ValueCheck]:
        found: list[checks.ValueCheck | None] = [
            checks.binding_check(el, code, self.expander),
            checks.fixed_check(el),
            checks.max_length_check(el),
            checks.invariant_check(self._invariants(el, roots, base)),
        ]
        if code == "Reference" and t is not None:
            targets = frozenset(self._target_type(p) for p in t.get("targetProfile", ()))
            found.append(checks.reference_check(targets, self.definitions.resource_types))
        return [c for c in found if c is not None]

    def _invariants(self, el: dict[str, Any], roots: tuple[dict[str, Any], ...], base: str) -> list[CompiledInvariant]:
        seen: set[str] = set()
        out: list[CompiledInvariant] = []
        for source in (el, *roots):
            for constraint in source.get("constraint", ()):
                key = str(constraint.get("key", ""))
                if key in seen:
                    continue
                seen.add(key)
                compiled = compile_invariant(constraint, base, fast=self.fast_invariants)
                if compiled is not None:
                    out.append(compiled)
        return out

    def _target_type(self, url: str) -> str:
        sd = self.sources.get(url.split("|", 1)[0]) or self.definitions.structure(url)
        return str(sd.get("type")) if sd else url.rsplit("/", 1)[-1]


def _accept(value: Any, ext: Any, path: str, ctx: Ctx) -> None:
    """Elements of a type we have no definition for (logical models) are not checked further."""


def _nested_resource(profiles: tuple[str, ...], contained: bool) -> ItemCheck:
    def check(value: Any, ext: Any, path: str, ctx: Ctx) -> None:
        if not isinstance(value, dict):
            ctx.error("structure", "A resource must be a JSON object", path)
            return
        ctx.hook.nested_resource(value, path, ctx, profiles, contained)

    return check
