"""Compiling ElementDefinition.slicing into a run-time :class:`~.slicing.Slicing`.

For each slice and discriminator, the expected value is looked up on the definition side by
walking the discriminator path through the slice's element tree, into type profiles (DK-core
slices identifiers by a ``system`` fixed in the identifier profile) and into fixed/pattern values
of parent elements. Extension slices are recognised by url even without a discriminator.

The walk also rewrites the path for run time: a name that reaches a choice element by its stem
(``extension.value`` → ``value[x]``) is marked as a choice, because instances never have a key
``value``, only ``valueCoding`` etc. ``resolve()`` continues in the Reference's single target
profile; a ``profile`` or ``type`` discriminator ending in ``resolve()`` (DiagnosticReport.performer
in HomeCareObservation) takes its expectations from the slice's ``targetProfile``.
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
_Steps = list[tuple[str, str]]
_Found = tuple[ElementTree, dict[str, Any], tuple[str, Any] | None, _Steps]


def compile_slicing(
    compiler: Compiler, tree: ElementTree, element_id: str, item_check_for: Callable[[str], ItemCheck]
) -> Slicing:
    el = tree.elements[element_id]
    slicing = el.get("slicing") or {}
    discriminators = list(slicing.get("discriminator", ()))
    if not discriminators and el["path"].endswith("xtension"):
        discriminators = [{"type": "value", "path": "url"}]
    slices = []
    resolve_paths: set[tuple[tuple[str, str], ...]] = set()
    for slice_id in tree.slices.get(element_id, ()):
        sel = tree.elements[slice_id]
        compiled = [_discriminator(compiler, tree, slice_id, d) for d in discriminators]
        resolve_paths.update(tuple(d.steps) for d in compiled if d is not None and ("resolve", "") in d.steps)
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
        resolve_paths=tuple(sorted(resolve_paths)),
    )


def _all(discriminators: list[Discriminator | None]) -> Callable[[Any, Ctx], bool]:
    if any(d is None for d in discriminators) or not discriminators:
        return lambda value, ctx: False
    usable = [d for d in discriminators if d is not None]
    return lambda value, ctx: all(d.matches(value, ctx) for d in usable)


def _discriminator(compiler: Compiler, tree: ElementTree, slice_id: str, disc: dict[str, Any]) -> Discriminator | None:
    kind, path = str(disc.get("type", "value")), str(disc.get("path", "$this"))
    steps = parse_path(path)
    if kind in ("profile", "type") and steps and steps[-1] == ("resolve", ""):
        return _resolved_target(compiler, tree, slice_id, kind, steps, path)
    found = _resolve(compiler, tree, slice_id, steps)
    if found is None:
        _log.info("slice discriminator path %s cannot be resolved; slice never matches", path)
        return None
    _, target, fixed, steps = found
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


def _resolved_target(
    compiler: Compiler, tree: ElementTree, slice_id: str, kind: str, steps: _Steps, path: str
) -> Discriminator | None:
    """``profile`` / ``type`` discriminators on ``…resolve()``: the Reference's target profiles."""
    found = _resolve(compiler, tree, slice_id, steps[:-1])
    targets = _target_profiles(found[1]) if found is not None else []
    if found is None or not targets:
        _log.info("slice discriminator %s has no target profile to compare with; slice never matches", path)
        return None
    run_steps = [*found[3], ("resolve", "")]
    if kind == "profile":
        return Discriminator(kind, run_steps, profiles=tuple(targets))
    types = [compiler.tree(url) for url in targets]
    return Discriminator(kind, run_steps, types=frozenset(t.type for t in types if t is not None))


def _target_profiles(element: dict[str, Any]) -> list[str]:
    return [str(p) for t in element.get("type", ()) if t.get("code") == "Reference" for p in t.get("targetProfile", ())]


def _resolve(compiler: Compiler, tree: ElementTree, element_id: str, steps: _Steps) -> _Found | None:
    """The element definition (and any fixed/pattern value) a discriminator path reaches, and the
    path as run time must walk it (choice stems marked ``name[x]``)."""
    cur_tree, cur_id = tree, element_id
    fixed: tuple[str, Any] | None = None
    walked: _Steps = []
    for kind, arg in steps:
        if kind == "resolve":
            targets = _target_profiles(cur_tree.elements[cur_id]) if fixed is None else []
            sub = compiler.tree(targets[0]) if len(targets) == 1 else None
            if sub is None:
                return None
            cur_tree, cur_id = sub, sub.root_id
            walked.append((kind, arg))
            continue
        if kind == "ofType":
            walked.append((kind, arg))
            continue
        if fixed is not None:
            inner, key = _member(fixed[1], arg) if kind == "name" else (None, arg)
            fixed = (fixed[0], inner) if inner is not None else None
            walked.append((kind, key))
            continue
        if kind == "extension":
            moved = _extension_slice(compiler, cur_tree, cur_id, arg)
            if moved is None:
                return None
            cur_tree, cur_id = moved
            walked.append((kind, arg))
            continue
        if cur_tree.child(cur_id, arg) is None:
            own = value_at_fixed(cur_tree.elements[cur_id])
            if own is not None:
                inner, key = _member(own[1], arg)
                if inner is None:
                    return None
                fixed = (own[0], inner)
                walked.append((kind, key))
                continue
        moved = _child(compiler, cur_tree, cur_id, arg)
        if moved is None:
            return None
        cur_tree, cur_id = moved
        walked.append((kind, _choice_step(arg, cur_id)))
    target = cur_tree.elements[cur_id]
    return cur_tree, target, fixed if fixed is not None else value_at_fixed(target), walked


def _choice_step(name: str, element_id: str) -> str:
    """``value`` reaching ``Extension.value[x]`` → ``value[x]``; other names stay as written."""
    last = element_id.rsplit(".", 1)[-1].split(":", 1)[0]
    return name + "[x]" if last == name + "[x]" else name


def _member(value: Any, name: str) -> tuple[Any, str]:
    """The member ``name`` of a fixed/pattern JSON value, also found by its choice stem, and the
    step to walk at run time (``value[x]`` when it was a ``valueCoding`` key)."""
    if not isinstance(value, dict):
        return None, name
    if name in value:
        return value[name], name
    stem = name.removesuffix("[x]")
    for key, inner in value.items():
        if key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper():
            return inner, stem + "[x]"
    return None, name


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
