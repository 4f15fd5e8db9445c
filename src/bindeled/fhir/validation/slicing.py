"""Slicing at run time: assign each repetition to a slice by its discriminators, then check slice
cardinality, closed slicing and order.

Discriminators are compiled into :class:`Discriminator` records by the compiler; here they are
matched against instance values found by walking the discriminator path (simple FHIRPath: names,
``$this``, ``extension('url')``, ``ofType(T)`` and ``resolve()``).

A choice element named by its stem (``extension.value``, ``content``) reaches here as ``value[x]``
(the compiler knows which names are choices), and matches the JSON keys ``valueCoding``,
``contentString`` …. ``resolve()`` follows a Reference to a contained resource or another entry of
the Bundle being validated (:mod:`.references`); a reference that cannot be followed leaves the
slice unmatched and is reported as information, since the target is simply not at hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .patterns import fixed_matches, pattern_matches
from .plan import Ctx, ItemCheck, Prop
from .references import resolve_reference

__all__ = ["Discriminator", "Slice", "Slicing", "parse_path", "values_at"]

_STEP = re.compile(r"extension\('([^']*)'\)|ofType\(([^)]*)\)|(resolve\(\))|(\$this)|([A-Za-z0-9_\-]+(?:\[x\])?)")


def parse_path(path: str) -> list[tuple[str, str]]:
    """``extension('u').value`` → ``[("extension", "u"), ("name", "value")]``."""
    steps: list[tuple[str, str]] = []
    for match in _STEP.finditer(path):
        url, of_type, resolve, this, name = match.groups()
        if url is not None:
            steps.append(("extension", url))
        elif of_type is not None:
            steps.append(("ofType", of_type.strip()))
        elif resolve:
            steps.append(("resolve", ""))
        elif this:
            continue
        else:
            steps.append(("name", name))
    return steps


def _children(value: Any, kind: str, arg: str) -> Iterator[Any]:
    if kind == "extension":
        for ext in value.get("extension", ()) if isinstance(value, dict) else ():
            if isinstance(ext, dict) and ext.get("url") == arg:
                yield ext
    elif kind == "ofType":
        if not isinstance(value, dict) or value.get("resourceType", arg) == arg:
            yield value
    elif kind == "name" and isinstance(value, dict):
        if arg.endswith("[x]"):
            stem = arg[:-3]
            found = [v for k, v in value.items() if k.startswith(stem) and k[len(stem) : len(stem) + 1].isupper()]
        else:
            found = [value[arg]] if arg in value else []
        for item in found:
            yield from item if isinstance(item, list) else (item,)


Resolver = Callable[[str], "dict[str, Any] | None"]


def values_at(value: Any, steps: list[tuple[str, str]], resolve: Resolver | None = None) -> list[Any] | None:
    """The instance values at a discriminator path; ``None`` when a ``resolve()`` step meets a
    reference that cannot be followed (or no resolver is given)."""
    current = [value]
    for kind, arg in steps:
        if kind == "resolve":
            if resolve is None:
                return None
            targets = []
            for item in current:
                ref = item.get("reference") if isinstance(item, dict) else None
                target = resolve(ref) if isinstance(ref, str) else None
                if target is None:
                    return None
                targets.append(target)
            current = targets
            continue
        current = [child for item in current for child in _children(item, kind, arg)]
    return current


def _resolver(ctx: Ctx) -> Resolver:
    return lambda reference: resolve_reference(reference, ctx)


@dataclass(frozen=True, slots=True)
class Discriminator:
    """One compiled discriminator: how to find values, and what a matching slice expects there."""

    kind: str
    """value / pattern / exists / type / profile (value and pattern behave the same in R4)."""
    steps: list[tuple[str, str]]
    fixed: tuple[tuple[str, Any], ...] = ()
    """Acceptable ``("fixed" | "pattern", value)`` pairs (several when the path crosses slices)."""
    codes: frozenset[tuple[str, str]] | None = None
    exists: bool | None = None
    types: frozenset[str] = frozenset()
    profiles: tuple[str, ...] = ()

    def matches(self, value: Any, ctx: Ctx) -> bool:
        found = values_at(value, self.steps, _resolver(ctx))
        if found is None:
            return False
        if self.kind == "exists":
            return bool(found) == bool(self.exists)
        if self.kind == "type":
            return self._type_matches(value, found, ctx)
        if self.kind == "profile":
            return bool(found) and all(
                any(ctx.hook.conforms(v, p, _type_of(v), ctx) for p in self.profiles) for v in found
            )
        return any(self._value_matches(v) for v in found)

    def _type_matches(self, value: Any, found: list[Any], ctx: Ctx) -> bool:
        if not found:
            return False
        if self.steps and self.steps[-1][0] == "name" and self.steps[-1][1].endswith("[x]"):
            stem = self.steps[-1][1][:-3]
            parents = values_at(value, self.steps[:-1], _resolver(ctx)) or []
            keys = [k for p in parents if isinstance(p, dict) for k in p if k.startswith(stem) and k != stem]
            suffixes = {t[0].upper() + t[1:] for t in self.types if t}  # JSON names capitalise the type
            return bool(keys) and all(k[len(stem) :] in suffixes for k in keys)
        return all(_type_of(v) in self.types for v in found)

    def _value_matches(self, value: Any) -> bool:
        if self.fixed:
            return any(
                fixed_matches(expected, value) if how == "fixed" else pattern_matches(expected, value)
                for how, expected in self.fixed
            )
        if self.codes is not None:
            return _in_codes(value, self.codes)
        return False


def _type_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("resourceType", ""))
    return ""


def _in_codes(value: Any, codes: frozenset[tuple[str, str]]) -> bool:
    if isinstance(value, str):
        return any(code == value for _, code in codes)
    if isinstance(value, dict):
        codings = value.get("coding", [value])
        return any((c.get("system", ""), c.get("code", "")) in codes for c in codings if isinstance(c, dict))
    return False


@dataclass(frozen=True, slots=True)
class Slice:
    """One slice: its name, cardinality, how to recognise members and how to check them."""

    name: str
    min: int
    max: int | None
    matches: Callable[[Any, Ctx], bool]
    check: ItemCheck


@dataclass(frozen=True, slots=True)
class Slicing:
    """The slicing of one repeating element."""

    element: str
    slices: tuple[Slice, ...]
    closed: bool
    ordered: bool
    open_at_end: bool = False
    """``openAtEnd``: repetitions that match no slice may only follow all sliced ones."""
    resolve_paths: tuple[tuple[tuple[str, str], ...], ...] = ()
    """Discriminator paths that go through ``resolve()`` (to explain an unmatched repetition)."""

    def run(self, items: list[tuple[Any, Any, str]], prop: Prop, path: str, ctx: Ctx) -> None:
        counts = [0] * len(self.slices)
        last = -1
        unsliced_seen = False
        for value, ext, item_path in items:
            index = self._slice_of(value, ctx)
            if index is not None and unsliced_seen and self.open_at_end:
                ctx.error("structure", f"{self.element}: unsliced repetitions must come after the slices", item_path)
            if index is None:
                unsliced_seen = True
                self._explain_unresolved(value, item_path, ctx)
                prop.check(value, ext, item_path, ctx)
                if self.closed:
                    ctx.error(
                        "structure", f"{self.element} does not match any slice and the slicing is closed", item_path
                    )
                continue
            counts[index] += 1
            self.slices[index].check(value, ext, item_path, ctx)
            if self.ordered and index < last:
                ctx.error("structure", f"Slice {self.slices[index].name} is out of order", item_path)
            last = max(last, index)
        for slc, count in zip(self.slices, counts, strict=True):
            if count < slc.min:
                ctx.error(
                    "required", f"Slice {slc.name} of {self.element} needs at least {slc.min}, found {count}", path
                )
            elif slc.max is not None and count > slc.max:
                ctx.error(
                    "structure", f"Slice {slc.name} of {self.element} allows at most {slc.max}, found {count}", path
                )

    def _explain_unresolved(self, value: Any, item_path: str, ctx: Ctx) -> None:
        resolver = _resolver(ctx)
        if any(values_at(value, list(steps), resolver) is None for steps in self.resolve_paths):
            ctx.error(
                "informational",
                f"{self.element}: a reference could not be resolved within the resource or its Bundle, "
                "so slices discriminated through resolve() cannot match it",
                item_path,
                "information",
            )

    def _slice_of(self, value: Any, ctx: Ctx) -> int | None:
        for index, slc in enumerate(self.slices):
            if slc.matches(value, ctx):
                return index
        return None
