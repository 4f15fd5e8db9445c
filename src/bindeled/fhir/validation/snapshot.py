"""Building a snapshot for a differential-only StructureDefinition by applying the differential to
its base's snapshot.

The algorithm follows the rules of ElementDefinition merging in R4 (profiling.html): elements are
matched by id; a differential element overwrites the base's properties (constraints are added,
not replaced); a new slice starts as a copy of the sliced element and is placed after the sliced
element's subtree and earlier slices; a child of an element whose children come from its type
(``Patient.identifier:cpr.system``) makes that type's children appear in the snapshot first.
"""

from __future__ import annotations

import copy
from typing import Any

from ..definitions import Definitions

__all__ = ["SnapshotError", "generate_snapshot"]


class SnapshotError(ValueError):
    """The differential cannot be applied (unknown base, or an element with no place in the base)."""


def generate_snapshot(
    sd: dict[str, Any], sources: dict[str, dict[str, Any]], definitions: Definitions, _depth: int = 0
) -> dict[str, Any]:
    """A copy of ``sd`` with ``snapshot.element`` filled from its base and its differential."""
    base_url = str(sd.get("baseDefinition", ""))
    base = sources.get(base_url) or definitions.structure(base_url)
    if base is None or _depth > 10:
        raise SnapshotError(f"The base {base_url} of {sd.get('url')} is not known")
    if "snapshot" not in base:
        base = generate_snapshot(base, sources, definitions, _depth + 1)
    elements = [_with_id(copy.deepcopy(el)) for el in base["snapshot"]["element"]]
    for diff in sd.get("differential", {}).get("element", ()):
        _apply(elements, _with_id(copy.deepcopy(diff)), sources, definitions)
    out = dict(sd)
    out["snapshot"] = {"element": elements}
    return out


def _with_id(el: dict[str, Any]) -> dict[str, Any]:
    el.setdefault("id", el.get("path", ""))
    return el


def _index(elements: list[dict[str, Any]], element_id: str) -> int | None:
    for i, el in enumerate(elements):
        if el["id"] == element_id:
            return i
    return None


def _subtree_end(elements: list[dict[str, Any]], start: int) -> int:
    """The index just after the element at ``start`` and everything nested under it (incl. slices)."""
    prefix = elements[start]["id"]
    end = start + 1
    while end < len(elements):
        other = elements[end]["id"]
        if not other.startswith((prefix + ".", prefix + ":")):
            break
        end += 1
    return end


def _in_own_subtree(element_id: str, root_id: str) -> bool:
    """The element itself or its children, but not its slices (``root:slice…``)."""
    return element_id == root_id or element_id.startswith(root_id + ".")


def _merge(target: dict[str, Any], diff: dict[str, Any]) -> None:
    for key, value in diff.items():
        if key == "constraint":
            known = {c.get("key") for c in target.get("constraint", ())}
            target["constraint"] = [*target.get("constraint", ()), *(c for c in value if c.get("key") not in known)]
        else:
            target[key] = value


def _apply(
    elements: list[dict[str, Any]], diff: dict[str, Any], sources: dict[str, dict[str, Any]], definitions: Definitions
) -> None:
    element_id = diff["id"]
    found = _index(elements, element_id)
    if found is None:
        found = _create(elements, element_id, sources, definitions)
    _merge(elements[found], diff)


def _create(
    elements: list[dict[str, Any]], element_id: str, sources: dict[str, dict[str, Any]], definitions: Definitions
) -> int:
    head, _, last = element_id.rpartition(".")
    if ":" in last:
        name, slice_name = last.split(":", 1)
        sliced_id = f"{head}.{name}" if head else name
        sliced = _index(elements, sliced_id)
        if sliced is None:
            sliced = _create(elements, sliced_id, sources, definitions)
        end = _subtree_end(elements, sliced)
        copies = [copy.deepcopy(el) for el in elements[sliced:end] if _in_own_subtree(el["id"], sliced_id)]
        for el in copies:
            el["id"] = element_id + el["id"][len(sliced_id) :]
        copies[0].pop("slicing", None)
        copies[0]["sliceName"] = slice_name
        elements[end:end] = copies
        return end
    parent = _index(elements, head)
    if parent is None:
        parent = _create(elements, head, sources, definitions)
    _expand_type(elements, parent, sources, definitions)
    found = _index(elements, element_id)
    if found is None:
        raise SnapshotError(f"The element {element_id} has no place in the base")
    return found


def _expand_type(
    elements: list[dict[str, Any]], parent: int, sources: dict[str, dict[str, Any]], definitions: Definitions
) -> None:
    """Insert the children of the parent's type (or type profile) right after it, if absent."""
    owner = elements[parent]
    if parent + 1 < len(elements) and elements[parent + 1]["id"].startswith(owner["id"] + "."):
        return
    types = owner.get("type", ())
    if not types:
        return
    url = next(iter(types[0].get("profile", ())), None) or types[0]["code"]
    sd = sources.get(url) or definitions.structure(url)
    if sd is None or "snapshot" not in sd:
        raise SnapshotError(f"The type {url} is not known")
    type_root = sd["snapshot"]["element"][0]["path"]
    children = []
    for el in sd["snapshot"]["element"][1:]:
        new = copy.deepcopy(_with_id(dict(el)))
        new["id"] = owner["id"] + new["id"][len(type_root) :]
        new["path"] = owner["path"] + new["path"][len(type_root) :]
        children.append(new)
    elements[parent + 1 : parent + 1] = children
