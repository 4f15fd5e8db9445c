"""Expanding a ValueSet into codes for the token modifiers ``:in`` and ``:not-in``.

Only value sets that the definitions can expand without a terminology server are supported:
an explicit ``expansion``, or a ``compose`` whose includes list concepts, name whole code systems,
or import other such value sets. Filters (``is-a`` …) need a terminology service and are refused.
"""

from __future__ import annotations

from typing import Any

from ...errors import UnsupportedParameter
from ..definitions import Definitions

__all__ = ["expand"]

Code = tuple[str | None, str | None]


def expand(url: str, definitions: Definitions, *, location: str, depth: int = 0) -> tuple[Code, ...]:
    """(system, code) pairs in the value set; code None stands for every code of that system."""
    vs = definitions.value_sets.get(url.split("|", 1)[0])
    if vs is None or depth > 8:
        raise UnsupportedParameter("The value set is not known to this server", location=(location,))
    contains = (vs.get("expansion") or {}).get("contains")
    if contains:
        return tuple(_flatten_contains(contains))
    compose = vs.get("compose") or {}
    if compose.get("exclude"):
        raise UnsupportedParameter("Value sets with excludes cannot be expanded here", location=(location,))
    out: list[Code] = []
    for include in compose.get("include", ()):
        out.extend(_include(include, definitions, location, depth))
    return tuple(dict.fromkeys(out))


def _flatten_contains(contains: list[dict[str, Any]]) -> list[Code]:
    out: list[Code] = []
    for item in contains:
        if "code" in item:
            out.append((item.get("system"), item["code"]))
        out.extend(_flatten_contains(item.get("contains", [])))
    return out


def _include(include: dict[str, Any], definitions: Definitions, location: str, depth: int) -> list[Code]:
    if include.get("filter"):
        raise UnsupportedParameter("Value sets with filters need a terminology server", location=(location,))
    system = include.get("system")
    out: list[Code] = [(system, c["code"]) for c in include.get("concept", ()) if "code" in c]
    if system and not include.get("concept"):
        out.append((system, None))
    for imported in include.get("valueSet", ()):
        out.extend(expand(imported, definitions, location=location, depth=depth + 1))
    return out
