"""Running a compiled plan over a JSON object: unknown elements, arrays, primitive extensions,
choice types and cardinality. Everything type-specific happens in the closures of the plan.

This is the hot loop of validation, so it is written for speed: one pass over the object's keys,
paths built once per property, and cardinality checked where the count is already known.
"""

from __future__ import annotations

from typing import Any

from .plan import Ctx, Node, Prop, Rule

__all__ = ["walk_object"]

_SKIP = frozenset({"resourceType", "fhir_comments"})


def walk_object(obj: dict[str, Any], node: Node, path: str, ctx: Ctx) -> None:
    """Check one JSON object against the plan of its element."""
    props = node.props
    seen: dict[Rule, str] = {}
    for key, value in obj.items():
        if key in _SKIP:
            continue
        if key[0] == "_":
            _walk_extension_only(obj, key, value, props.get(key[1:]), path, ctx, seen)
            continue
        prop = props.get(key)
        if prop is None:
            ctx.error("structure", "Unknown element", f"{path}.{key}")
            continue
        rule = prop.rule
        sub = f"{path}.{key}"
        if rule.is_choice and seen.get(rule, sub) != sub:
            ctx.error("structure", f"Only one type is allowed for the choice element {rule.name}[x]", sub)
        seen[rule] = sub
        _walk_values(value, obj.get("_" + key) if rule.primitive else None, prop, sub, ctx)
    for rule in node.required:
        if rule not in seen:
            ctx.error(
                "required", f"Element {rule.name} is required: minimum {rule.min}, found 0", f"{path}.{rule.name}"
            )
    for check in node.checks:
        check(obj, path, ctx)


def _walk_extension_only(
    obj: dict[str, Any], key: str, value: Any, prop: Prop | None, path: str, ctx: Ctx, seen: dict[Rule, str]
) -> None:
    """``_name`` keys: checked together with ``name`` unless the value itself is absent."""
    if prop is None:
        ctx.error("structure", "Unknown element", f"{path}.{key}")
    elif not prop.rule.primitive:
        ctx.error("structure", "Only primitive elements may have a _ extension", f"{path}.{key}")
    elif key[1:] not in obj:
        sub = f"{path}.{key[1:]}"
        seen[prop.rule] = sub
        _walk_values(None, value, prop, sub, ctx)


def _walk_values(value: Any, ext: Any, prop: Prop, path: str, ctx: Ctx) -> None:
    rule = prop.rule
    if not rule.is_array:
        if rule.max == 0:
            ctx.error("structure", f"Element {rule.name} is not allowed here (maximum 0)", path)
        elif isinstance(value, list) or isinstance(ext, list):
            ctx.error("structure", "This element is a single value, not an array", path)
        elif ext is not None and not isinstance(ext, dict):
            ctx.error("structure", "A primitive extension must be a JSON object", path)
        else:
            prop.check(value, ext, path, ctx)
        return
    values = _as_list(value, path, ctx)
    exts = _as_list(ext, path, ctx)
    if values is None or exts is None:
        return
    if values and exts and len(values) != len(exts):
        ctx.error("structure", "The value and _ extension arrays must have the same length", path)
        return
    items: list[tuple[Any, Any, str]] = []
    for i in range(max(len(values), len(exts))):
        item = values[i] if values else None
        item_ext = exts[i] if exts else None
        if item is None and item_ext is None:
            ctx.error("structure", "An array item must not be null", f"{path}[{i}]")
            continue
        items.append((item, item_ext, f"{path}[{i}]"))
    if rule.slicing is not None:
        rule.slicing.run(items, prop, path, ctx)
    else:
        check = prop.check
        for item, item_ext, item_path in items:
            check(item, item_ext, item_path, ctx)
    _check_cardinality(rule, len(items), path, ctx)


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


def _check_cardinality(rule: Rule, count: int, path: str, ctx: Ctx) -> None:
    if count < rule.min:
        ctx.error("required", f"Element {rule.name} is required: minimum {rule.min}, found {count}", path)
    elif rule.max is not None and count > rule.max:
        ctx.error("structure", f"Element {rule.name} allows at most {rule.max}, found {count}", path)
