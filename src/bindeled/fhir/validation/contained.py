"""The R4 rules for contained resources (dom-2, dom-3, dom-4, dom-5), checked natively.

dom-3's FHIRPath form scans every descendant of the resource once per contained resource; here
all references are collected in one pass, and only when the resource has contained resources.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .plan import Ctx

__all__ = ["check_contained_rules"]


def _references(node: Any, skip: Any) -> Iterator[str]:
    if node is skip:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key == "reference" or value.startswith("#"):
                    yield value  # a Reference, or a canonical / uri pointing at a contained resource
            else:
                yield from _references(value, skip)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item, skip)


def check_contained_rules(resource: dict[str, Any], path: str, ctx: Ctx) -> None:
    """Checks on the ``contained`` list of a DomainResource (a no-op when there is none)."""
    contained = resource.get("contained")
    if not isinstance(contained, list):
        return
    outside = set(_references({k: v for k, v in resource.items() if k != "contained"}, None))
    for i, item in enumerate(contained):
        if not isinstance(item, dict):
            continue
        item_path = f"{path}.contained[{i}]"
        if "contained" in item:
            ctx.error(
                "invariant",
                "Constraint failed: dom-2: contained resources must not contain resources",
                item_path,
                key="dom-2",
            )
        meta: dict[str, Any] = item["meta"] if isinstance(item.get("meta"), dict) else {}
        if "versionId" in meta or "lastUpdated" in meta:
            ctx.error(
                "invariant",
                "Constraint failed: dom-4: contained resources must not have meta.versionId or meta.lastUpdated",
                item_path,
                key="dom-4",
            )
        if "security" in meta:
            ctx.error(
                "invariant",
                "Constraint failed: dom-5: contained resources must not have security labels",
                item_path,
                key="dom-5",
            )
        if not _is_referenced(item, contained, outside):
            ctx.error(
                "invariant",
                "Constraint failed: dom-3: a contained resource must be referenced from elsewhere in the resource",
                item_path,
                key="dom-3",
            )


def _is_referenced(item: dict[str, Any], contained: list[Any], outside: set[str]) -> bool:
    local = "#" + str(item.get("id", ""))
    if local in outside:
        return True
    if "#" in set(_references(item, None)):
        return True  # it refers to its container
    return any(local in set(_references(other, None)) for other in contained if other is not item)
