"""Expanding a ValueSet into codes for the token modifiers ``:in`` and ``:not-in``.

Only value sets that the definitions can expand without a terminology server are supported:
an explicit ``expansion``, or a ``compose`` whose includes list concepts, name whole code systems,
import other such value sets, or filter a code system the definitions hold with an is-a hierarchy
(``is-a``, ``descendent-of``, ``is-not-a``, ``generalizes``, and ``concept`` ``=`` / ``in``).
Excludes are subtracted when both sides can be listed. Anything else is refused, never guessed.
"""

from __future__ import annotations

from typing import Any

from ...errors import UnsupportedParameter
from ..definitions import Definitions
from .hierarchy import hierarchy_for

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
    out: list[Code] = []
    for include in compose.get("include", ()):
        out.extend(_include(include, definitions, location, depth))
    excluded: list[Code] = []
    for exclude in compose.get("exclude", ()):
        excluded.extend(_include(exclude, definitions, location, depth))
    if excluded:
        out = _subtract(out, excluded, definitions, location)
    return tuple(dict.fromkeys(out))


def _subtract(included: list[Code], excluded: list[Code], definitions: Definitions, location: str) -> list[Code]:
    """``included`` less ``excluded``; a whole system on the left is listed first (its hierarchy must be known)."""
    whole_systems = {s for s, c in excluded if c is None}
    codes = {(s, c) for s, c in excluded if c is not None}
    out: list[Code] = []
    for system, code in included:
        if system in whole_systems:
            continue
        if code is None and any(s == system for s, _ in codes):
            assert system is not None
            every = hierarchy_for(definitions, system, location=location).codes
            out.extend((system, c) for c in sorted(every) if (system, c) not in codes)
        elif (system, code) not in codes:
            out.append((system, code))
    return out


def _flatten_contains(contains: list[dict[str, Any]]) -> list[Code]:
    out: list[Code] = []
    for item in contains:
        if "code" in item:
            out.append((item.get("system"), item["code"]))
        out.extend(_flatten_contains(item.get("contains", [])))
    return out


def _filtered(system: str | None, filters: list[dict[str, Any]], definitions: Definitions, location: str) -> set[str]:
    """The codes of ``system`` that pass every filter (filters are AND-ed)."""
    if not system:
        raise UnsupportedParameter("A value set filter without a system cannot be expanded", location=(location,))
    tree = hierarchy_for(definitions, system, location=location)
    found = set(tree.codes)
    for f in filters:
        prop, op, value = f.get("property"), f.get("op"), str(f.get("value", ""))
        if prop != "concept":
            raise UnsupportedParameter("Only concept filters can be expanded here", location=(location,))
        if op == "is-a":
            found &= {value} | tree.descendants(value)
        elif op == "descendent-of":
            found &= tree.descendants(value)
        elif op == "is-not-a":
            found -= {value} | tree.descendants(value)
        elif op == "generalizes":
            found &= {value} | tree.ancestors(value)
        elif op == "=":
            found &= {value}
        elif op == "in":
            found &= {v.strip() for v in value.split(",")}
        else:
            raise UnsupportedParameter(
                f"The value set filter op {op!r} needs a terminology server", location=(location,)
            )
    return found


def _include(include: dict[str, Any], definitions: Definitions, location: str, depth: int) -> list[Code]:
    system = include.get("system")
    if include.get("filter"):
        codes = _filtered(system, include["filter"], definitions, location)
        listed = {c["code"] for c in include.get("concept", ()) if "code" in c}
        out: list[Code] = [(system, c) for c in sorted(codes & listed if listed else codes)]
    else:
        out = [(system, c["code"]) for c in include.get("concept", ()) if "code" in c]
        if system and not include.get("concept"):
            out.append((system, None))
    for imported in include.get("valueSet", ()):
        out.extend(expand(imported, definitions, location=location, depth=depth + 1))
    return out
