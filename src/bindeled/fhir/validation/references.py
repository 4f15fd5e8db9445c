"""Resolving a Reference inside the resource being validated, for ``resolve()`` discriminators.

A validator sees one resource at a time and never fetches anything, so ``resolve()`` can only
reach what travels with the resource: its contained resources (``#id``) and, for a resource in a
Bundle, the other entries. Entries are matched by ``fullUrl`` following the R4 rules for
references in Bundles (bundle.html#references): an absolute reference must equal a ``fullUrl``;
a relative ``Type/id`` is resolved against the base of the referring entry's RESTful ``fullUrl``,
and otherwise (``urn:uuid:`` entries, as in MedCom messages) matches an entry whose ``fullUrl``
ends in ``/Type/id`` or whose resource has that type and id.

The referring entry is the one holding ``%rootResource`` (the resource itself, or the container of
a contained one). It is looked up only when a relative reference is resolved, so validating a
large Bundle costs nothing extra unless a profile slices by ``resolve()``.
"""

from __future__ import annotations

import re
from typing import Any

from .plan import Ctx

__all__ = ["resolve_reference"]

_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_RESTFUL_TAIL = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$")


def resolve_reference(reference: str, ctx: Ctx) -> dict[str, Any] | None:
    """The resource ``reference`` points at within the walked resource or its Bundle, if there."""
    if reference.startswith("#"):
        return _contained(reference[1:], ctx.root)
    if ctx.bundle is None:
        return None
    entries = [e for e in _as_list(ctx.bundle.get("entry")) if isinstance(e, dict)]
    relative = _RELATIVE.match(reference)
    if relative is None:
        return _first(e for e in entries if e.get("fullUrl") == reference)
    kind, rid = relative.groups()
    plain = f"{kind}/{rid}"
    full_url = _full_url_of(entries, ctx.root)
    tail = _RESTFUL_TAIL.search(full_url) if full_url is not None else None
    if full_url is not None and tail is not None and tail.start() > 0:
        found = _first(e for e in entries if e.get("fullUrl") == full_url[: tail.start()] + plain)
        if found is not None:
            return found
    by_url = _first(e for e in entries if str(e.get("fullUrl", "")).endswith("/" + plain))
    if by_url is not None:
        return by_url
    return _first(e for e in entries if _is(e.get("resource"), kind, rid))


def _full_url_of(entries: list[dict[str, Any]], resource: dict[str, Any]) -> str | None:
    """The ``fullUrl`` of the entry holding exactly this resource object."""
    for entry in entries:
        if entry.get("resource") is resource:
            url = entry.get("fullUrl")
            return url if isinstance(url, str) else None
    return None


def _contained(local_id: str, root: dict[str, Any]) -> dict[str, Any] | None:
    if not local_id:
        return root  # "#" is the container itself
    for item in _as_list(root.get("contained")):
        if isinstance(item, dict) and item.get("id") == local_id:
            return item
    return None


def _first(entries: Any) -> dict[str, Any] | None:
    for entry in entries:
        resource = entry.get("resource")
        if isinstance(resource, dict):
            return resource
    return None


def _is(resource: Any, kind: str, rid: str) -> bool:
    return isinstance(resource, dict) and resource.get("resourceType") == kind and resource.get("id") == rid


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
