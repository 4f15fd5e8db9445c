"""Compiling ElementDefinition.slicing into a run-time :class:`~.slicing.Slicing`.

For each slice and discriminator, the expected value is looked up on the definition side by
walking the discriminator path through the slice's element tree, into type profiles (DK-core
slices identifiers by a ``system`` fixed in the identifier profile) and into fixed/pattern values
of parent elements. Extension slices are recognised by url even without a discriminator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .patterns import value_at_fixed
from .plan import Ctx, ItemCheck
from .slicing import Discriminator, Slice, Slicing, parse_path
from .tree import ElementTree

if TYPE_CHECKING:
    from .compile import Compiler

__all__ = ["compile_slicing"]

_log = logging.getLogger(__name__)
_Found = tuple[ElementTree, dict[str, Any], tuple[str, Any] | None]


def compile_slicing(
    compiler: Compiler, tree: ElementTree, element_id: str, item_check_for: Callable[[str], ItemCheck]
) -> Slicing:
    el = tree.elements[element_id]
    slicing = el.get("slicing") or {}
    discriminators = list(slicing.get("discriminator", ()))
    if not discriminators and el["path"].endswith("xtension"):
        discriminators = [{"type": "value", "path": "url"}]
    slices = []
    for slice_id in tree.slices.get(element_id, ()):
        sel = tree.elements[slice_id]
        compiled = [_discriminator(compiler, tree, slice_id, d) for d in discriminators]
        slices.append(
            Slice(
                name=str(sel.get("sliceName", slice_id)),
                min=int(sel.get("min", 0)),
                max=None if sel.get("max", "*") == "*" else int(sel["max"]),
                matches=_all(compiled),
                check=item_check_for(slice_id),
            )
        )
    return Slicing(
        element=el["path"].rsplit(".", 1)[-1],
        slices=tuple(slices),
        closed=slicing.get("rules") == "closed",
        ordered=bool(slicing.get("ordered", False)),
        open_at_end=slicing.get("rules") == "openAtEnd",
    )


def _all(discriminators: list[Discriminator | None]) -> Callable[[Any, Ctx], bool]:
    if any(d is None for d in discriminators) or not discriminators:
        return lambda value, ctx: False
    usable = [d for d in discriminators if d is not None]
    return lambda value, ctx: all(d.matches(value, ctx) for d in usable)


def _discriminator(compiler: Compiler, tree: ElementTree, slice_id: str, disc: dict[str, Any]) -> Discriminator | None:
    kind, path = str(disc.get("type", "value")), str(disc.get("path", "$this"))
    steps = parse_path(path)
    found = _resolve(compiler, tree, slice_id, steps)
    if found is None:
        _log.info("slice discriminator path %s cannot be resolved; slice never matches", path)
        return None
    _, target, fixed = found
    types = [t for t in target.get("type", ()) if t.get("code")]
    if kind == "exists":
        return Discriminator(kind, steps, exists=int(target.get("min", 0)) > 0 and target.get("max") != "0")
    if kind == "type":
        return Discriminator(kind, steps, types=frozenset(str(t["code"]) for t in types))
    if kind == "profile":
        profiles = tuple(p for t in types for p in t.get("profile", ()))
        return Discriminator(kind, steps, profiles=profiles) if profiles else None
    if fixed is None and steps == [("name", "url")]:
        owner = tree.elements[slice_id]
        urls = [p for t in owner.get("type", ()) for p in t.get("profile", ())]
        fixed = ("fixed", urls[0]) if urls else None
    options = (fixed,) if fixed is not None else _fixed_through_slices(tree, slice_id, steps)
    if options:
        return Discriminator("value", steps, fixed=options)
    binding = target.get("binding") or {}
    if binding.get("strength") == "required" and binding.get("valueSet"):
        codes = compiler.expander.expand(str(binding["valueSet"]))
        if codes is not None:
            return Discriminator("value", steps, codes=codes)
    return None


def _resolve(compiler: Compiler, tree: ElementTree, element_id: str, steps: list[tuple[str, str]]) -> _Found | None:
    """The element definition (and any fixed/pattern value) a discriminator path reaches."""
    cur_tree, cur_id = tree, element_id
    fixed: tuple[str, Any] | None = None
    for kind, arg in steps:
        if kind == "resolve":
            return None
        if kind == "ofType":
            continue
        if fixed is not None:
            inner = fixed[1].get(arg) if isinstance(fixed[1], dict) and kind == "name" else None
            fixed = (fixed[0], inner) if inner is not None else None
            continue
        if kind == "extension":
            moved = _extension_slice(compiler, cur_tree, cur_id, arg)
            if moved is None:
                return None
            cur_tree, cur_id = moved
            continue
        if cur_tree.child(cur_id, arg) is None:
            own = value_at_fixed(cur_tree.elements[cur_id])
            if own is not None:
                inner = own[1].get(arg) if isinstance(own[1], dict) else None
                if inner is None:
                    return None
                fixed = (own[0], inner)
                continue
        moved = _child(compiler, cur_tree, cur_id, arg)
        if moved is None:
            return None
        cur_tree, cur_id = moved
    target = cur_tree.elements[cur_id]
    return cur_tree, target, fixed if fixed is not None else value_at_fixed(target)


def _fixed_through_slices(
    tree: ElementTree, element_id: str, steps: list[tuple[str, str]]
) -> tuple[tuple[str, Any], ...]:
    """Fixed values reached when the path crosses sliced elements (``code.coding.code`` where the
    code is fixed in a ``coding`` slice, as in the R4 blood-pressure profile)."""
    if not steps:
        found = value_at_fixed(tree.elements[element_id])
        return (found,) if found is not None else ()
    kind, arg = steps[0]
    if kind != "name":
        return ()
    child = tree.child(element_id, arg)
    if child is None:
        return ()
    out: list[tuple[str, Any]] = []
    for branch in (child, *tree.slices.get(child, ())):
        out.extend(_fixed_through_slices(tree, branch, steps[1:]))
    return tuple(out)


def _child(compiler: Compiler, tree: ElementTree, element_id: str, name: str) -> tuple[ElementTree, str] | None:
    child = tree.child(element_id, name)
    if child is not None:
        return tree, child
    el = tree.elements[element_id]
    for t in el.get("type", ()):
        for candidate in (*t.get("profile", ()), t.get("code", "")):
            sub = compiler.tree(str(candidate)) if candidate else None
            if sub is not None:
                found = sub.child(sub.root_id, name)
                if found is not None:
                    return sub, found
    return None


def _extension_slice(
    compiler: Compiler, tree: ElementTree, element_id: str, url: str
) -> tuple[ElementTree, str] | None:
    ext_id = tree.child(element_id, "extension")
    for slice_id in tree.slices.get(ext_id or "", ()):
        types = tree.elements[slice_id].get("type", ())
        if any(url in t.get("profile", ()) for t in types):
            return tree, slice_id
    sub = compiler.tree(url)
    return (sub, sub.root_id) if sub is not None else None
