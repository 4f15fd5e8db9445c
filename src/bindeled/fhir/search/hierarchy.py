"""Subsumption in the code systems the definitions hold: what ``:below``, ``:above`` and ``is-a`` mean.

A CodeSystem whose ``hierarchyMeaning`` is ``is-a`` says that a concept nested in another (or naming
it in a ``parent`` property) is a kind of it. Nothing else here implies subsumption: a ``grouped-by``
or ``part-of`` hierarchy does not make a child a kind of its parent, so searches over such systems are
refused rather than answered with what the client did not mean. Systems that are not in the
definitions (SNOMED CT, LOINC …) need a terminology server and are refused too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...errors import UnsupportedParameter
from ..definitions import Definitions

__all__ = ["Hierarchy", "hierarchy_for"]


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """One code system's is-a graph: every code, and each code's direct parents and children."""

    system: str
    parents: dict[str, frozenset[str]]
    children: dict[str, frozenset[str]]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.parents)

    def descendants(self, code: str) -> set[str]:
        """Every code below ``code`` (not itself)."""
        return self._walk(code, self.children)

    def ancestors(self, code: str) -> set[str]:
        """Every code above ``code`` (not itself)."""
        return self._walk(code, self.parents)

    @staticmethod
    def _walk(code: str, edges: dict[str, frozenset[str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(edges.get(code, ()))
        while todo:
            found = todo.pop()
            if found not in seen:
                seen.add(found)
                todo.extend(edges.get(found, ()))
        seen.discard(code)
        return seen


def _concepts(concepts: list[dict[str, Any]], parent: str | None) -> Iterator[tuple[str, str | None, list[str]]]:
    """(code, nesting parent, parents named in ``parent`` properties) for every concept, depth first."""
    for concept in concepts:
        code = concept.get("code")
        if not isinstance(code, str):
            continue
        named = [
            str(p["valueCode"]) for p in concept.get("property", ()) if p.get("code") == "parent" and "valueCode" in p
        ]
        yield code, parent, named
        yield from _concepts(concept.get("concept", ()), code)


def _build(system: str, code_system: dict[str, Any]) -> Hierarchy:
    parents: dict[str, set[str]] = {}
    children: dict[str, set[str]] = {}
    for code, nesting, named in _concepts(code_system.get("concept", ()), None):
        parents.setdefault(code, set())
        for parent in [*([nesting] if nesting else []), *named]:
            parents[code].add(parent)
            children.setdefault(parent, set()).add(code)
    return Hierarchy(
        system,
        {k: frozenset(v) for k, v in parents.items()},
        {k: frozenset(v) for k, v in children.items()},
    )


_cache: dict[tuple[int, str], Hierarchy] = {}
_lock = threading.Lock()


def hierarchy_for(definitions: Definitions, system: str, *, location: str) -> Hierarchy:
    """The is-a hierarchy of ``system``; :class:`UnsupportedParameter` when there is none to use here."""
    key = (id(definitions), system)
    found = _cache.get(key)
    if found is not None:
        return found
    code_system = definitions.code_systems.get(system.split("|", 1)[0])
    if code_system is None:
        raise UnsupportedParameter("The code system is not known to this server", location=(location,))
    if code_system.get("hierarchyMeaning") != "is-a":
        raise UnsupportedParameter("The code system has no is-a hierarchy", location=(location,))
    if code_system.get("content") not in ("complete", None):
        raise UnsupportedParameter("This server holds only part of the code system", location=(location,))
    built = _build(system, code_system)
    with _lock:
        _cache[key] = built
    return built
