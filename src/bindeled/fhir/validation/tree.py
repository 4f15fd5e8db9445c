"""A StructureDefinition snapshot as a tree of element ids: children, slices and lookups.

Element ids (``Patient.identifier:cpr.system``) name both the path and the slice an element
belongs to, so the tree is built from ids. Snapshots without ids (old tooling) get ids from paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ElementTree", "parent_id", "split_id"]


def split_id(element_id: str) -> list[str]:
    """``Patient.identifier:cpr.system`` → ``["Patient", "identifier:cpr", "system"]``."""
    return element_id.split(".")


def parent_id(element_id: str) -> str | None:
    """The id of the element this one is a child of (``None`` for the root)."""
    head, _, _ = element_id.rpartition(".")
    return head or None


def _slice_base(element_id: str) -> str | None:
    """For a slice (``Patient.identifier:cpr``) the id of the sliced element."""
    head, _, last = element_id.rpartition(".")
    if ":" not in last:
        return None
    name = last.split(":", 1)[0]
    return f"{head}.{name}" if head else name


@dataclass(slots=True)
class ElementTree:
    """Index of one StructureDefinition's snapshot by element id."""

    url: str
    type: str
    elements: dict[str, dict[str, Any]]
    root_id: str
    children: dict[str, list[str]] = field(default_factory=dict)
    slices: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, sd: dict[str, Any]) -> ElementTree:
        elements: dict[str, dict[str, Any]] = {}
        for el in sd.get("snapshot", {}).get("element", ()):
            element_id = el.get("id") or el["path"]
            elements.setdefault(element_id, el)
        root_id = next(iter(elements), sd.get("type", ""))
        tree = cls(str(sd.get("url", "")), str(sd.get("type", root_id)), elements, root_id)
        for element_id in elements:
            base = _slice_base(element_id)
            if base is not None and base in elements:
                tree.slices.setdefault(base, []).append(element_id)
                continue
            parent = parent_id(element_id)
            if parent is not None:
                tree.children.setdefault(parent, []).append(element_id)
        return tree

    def child(self, element_id: str, name: str) -> str | None:
        """The id of the child called ``name`` (a choice child is found by its ``[x]`` stem too)."""
        for child_id in self.children.get(element_id, ()):
            last = child_id.rsplit(".", 1)[-1]
            if last == name or (last.endswith("[x]") and name.startswith(last[:-3])):
                return child_id
        return None
