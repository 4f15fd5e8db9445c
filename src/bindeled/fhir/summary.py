"""``_summary`` and ``_elements``: returning part of a resource, marked as such.

A subsetted resource carries the ``SUBSETTED`` tag so nobody mistakes it for the whole and writes it
back. Which elements belong to the summary comes from ``isSummary`` in the R4 definitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import InvalidRequest
from .definitions import Definitions
from .jsonio import Resource

__all__ = ["SUBSETTED", "select_elements", "summarize"]

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
_ALWAYS = ("resourceType", "id", "meta")


def _tagged(resource: Resource) -> Resource:
    meta = dict(resource.get("meta", {}))
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, dict(SUBSETTED)]
    resource["meta"] = meta
    return resource


def _element_for(definitions: Definitions, resource_type: str, key: str) -> Any:
    name = key[1:] if key.startswith("_") else key
    for info in definitions.children(resource_type):
        for json_name, _type in info.json_names():
            if json_name == name:
                return info
    return None


def summarize(resource: Resource, mode: str, definitions: Definitions) -> Resource:
    """Apply ``_summary`` (``true``, ``text``, ``data``, ``false``); ``count`` is handled by search."""
    if mode == "false":
        return resource
    resource_type = resource["resourceType"]
    out: Resource = {}
    for key, value in resource.items():
        info = _element_for(definitions, resource_type, key)
        keep: bool
        if key in _ALWAYS:
            keep = True
        elif mode == "true":
            keep = info is not None and info.is_summary
        elif mode == "text":
            keep = key == "text" or (info is not None and info.min > 0)
        elif mode == "data":
            keep = key != "text"
        else:
            raise InvalidRequest(
                f"_summary={mode!r} is not one of true, text, data, count, false", location=("_summary",)
            )
        if keep:
            out[key] = value
    return _tagged(out)


def select_elements(resource: Resource, elements: Iterable[str], definitions: Definitions) -> Resource:
    """Apply ``_elements``: the named top-level elements, plus the mandatory ones and modifiers."""
    wanted = {e.strip() for e in elements if e.strip()}
    resource_type = resource["resourceType"]
    out: Resource = {}
    for key, value in resource.items():
        info = _element_for(definitions, resource_type, key)
        name = key[1:] if key.startswith("_") else key
        stem = info.name if info is not None else name
        if (
            key in _ALWAYS
            or name in wanted
            or stem in wanted
            or (info is not None and (info.min > 0 or info.is_modifier))
        ):
            out[key] = value
    return _tagged(out)
