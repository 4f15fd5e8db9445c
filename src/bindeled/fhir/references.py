"""References between resources: parsing them and rewriting them (e.g. ``urn:uuid:`` in transactions)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["ID_PATTERN", "LocalReference", "iter_references", "parse_local", "rewrite_references", "valid_id"]

ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""The R4 ``id`` datatype."""

_LOCAL = re.compile(
    r"^(?:(?P<base>.+)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/(?P<vid>[A-Za-z0-9\-.]{1,64}))?$"
)


def valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class LocalReference:
    """``[base/]Type/id[/_history/vid]`` taken apart."""

    base: str | None
    resource_type: str
    id: str
    version: str | None

    @property
    def relative(self) -> str:
        return f"{self.resource_type}/{self.id}"


def parse_local(reference: str) -> LocalReference | None:
    """Parse a literal reference to a resource; None for ``#contained``, ``urn:`` and conditional forms."""
    if reference.startswith(("#", "urn:")) or "?" in reference:
        return None
    match = _LOCAL.match(reference)
    if match is None:
        return None
    return LocalReference(match["base"], match["type"], match["id"], match["vid"])


def iter_references(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``Reference`` object (a dict with a string ``reference``) in a tree, with its FHIRPath-ish path."""
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield path, node
        for key, value in node.items():
            if key in ("contained",) and path.count(".") > 0:
                continue
            yield from iter_references(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from iter_references(item, f"{path}[{i}]")


def rewrite_references(node: Any, replace: Callable[[str], str | None]) -> Any:
    """A copy of the tree with every ``reference`` (and every ``uri``-like string equal to a key) replaced.

    ``replace`` returns the new value, or None to keep the old one. Strings anywhere in the tree are
    offered too, so a ``urn:uuid:`` used in ``Provenance.target`` or an attachment URL is rewritten alike.
    """
    if isinstance(node, dict):
        return {k: rewrite_references(v, replace) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite_references(v, replace) for v in node]
    if isinstance(node, str):
        new = replace(node)
        return node if new is None else new
    return node
