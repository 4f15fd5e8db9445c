"""Running a compiled plan over a JSON object: unknown elements, arrays, primitive extensions,
choice types and cardinality. Everything type-specific happens in the closures of the plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .plan import Ctx, Node, Prop, Rule

__all__ = ["walk_object"]

_SKIP = frozenset({"resourceType", "fhir_comments"})


@dataclass(slots=True)
class _Seen:
    """The repetitions of one element found in an object: (property path, value, extension)."""

    rule: Rule
    items: list[tuple[str, Any, Any]]


def walk_object(obj: dict[str, Any], node: Node, path: str, ctx: Ctx) -> None:
    """Check one JSON object against the plan of its element."""
    counts: dict[int, _Seen] = {}
    for key, value in obj.items():
        if key in _SKIP:
            continue
        ext_only = key[0] == "_"
        name = key[1:] if ext_only else key
        prop = node.props.get(name)
        if prop is None:
            ctx.error("structure", "Unknown element", f"{path}.{key}")
            continue
        if ext_only:
            if not prop.rule.primitive:
                ctx.error("structure", "Only primitive elements may have a _ extension", f"{path}.{key}")
            elif name not in obj:
                _walk_values(None, value, prop, f"{path}.{name}", ctx, counts)
            continue
        _walk_values(value, obj.get("_" + key) if prop.rule.primitive else None, prop, f"{path}.{key}", ctx, counts)
    for rule in node.required:
        if id(rule) not in counts:
            ctx.error(
                "required", f"Element {rule.name} is required: minimum {rule.min}, found 0", f"{path}.{rule.name}"
            )
    for seen in counts.values():
        _check_cardinality(seen, ctx)
    for check in node.checks:
        check(obj, path, ctx)


def _walk_values(value: Any, ext: Any, prop: Prop, path: str, ctx: Ctx, counts: dict[int, _Seen]) -> None:
    rule = prop.rule
    found = counts.get(id(rule))
    if found is None:
        found = counts[id(rule)] = _Seen(rule, [])
    seen = found.items
    if seen and seen[0][0] != path:
        ctx.error("structure", f"Only one type is allowed for the choice element {rule.name}[x]", path)
    if not rule.is_array:
        if isinstance(value, list) or isinstance(ext, list):
            ctx.error("structure", "This element is a single value, not an array", path)
            return
        if ext is not None and not isinstance(ext, dict):
            ctx.error("structure", "A primitive extension must be a JSON object", path)
            return
        seen.append((path, value, ext))
        prop.check(value, ext, path, ctx)
        return
    values = _as_list(value, path, ctx)
    exts = _as_list(ext, path, ctx)
    if values is None or exts is None:
        return
    if values and exts and len(values) != len(exts):
        ctx.error("structure", "The value and _ extension arrays must have the same length", path)
        return
    for i in range(max(len(values), len(exts))):
        item = values[i] if values else None
        item_ext = exts[i] if exts else None
        item_path = f"{path}[{i}]"
        if item is None and item_ext is None:
            ctx.error("structure", "An array item must not be null", item_path)
            continue
        seen.append((path, item, item_ext))
        if rule.slicing is None:
            prop.check(item, item_ext, item_path, ctx)
    if rule.slicing is not None:
        rule.slicing.run([(v, e, f"{path}[{i}]") for i, (_, v, e) in enumerate(seen)], prop, path, ctx)


def _as_list(value: Any, path: str, ctx: Ctx) -> list[Any] | None:
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.error("structure", "This element repeats and must be a JSON array", path)
        return None
    if not value:
        ctx.error("structure", "Arrays must not be empty", path)
        return None
    return value


def _check_cardinality(seen: _Seen, ctx: Ctx) -> None:
    rule, count = seen.rule, len(seen.items)
    if not count:
        return
    where = seen.items[0][0]
    if count < rule.min:
        ctx.error("required", f"Element {rule.name} is required: minimum {rule.min}, found {count}", where)
    elif rule.max is not None and count > rule.max:
        ctx.error("structure", f"Element {rule.name} allows at most {rule.max}, found {count}", where)
