"""Expanding ValueSets from the definitions we hold, for required-binding checks.

Only what can be expanded exactly is expanded: explicit concept lists, whole CodeSystems whose
content is ``complete``, ``is-a`` / ``descendent-of`` / ``=`` (concept) filters on CodeSystems we
have with their hierarchy, included ValueSets, and excludes. Anything else (SNOMED CT, LOINC,
UCUM, an unknown system, an unsupported filter) makes the expansion *unknown* (``None``): a
binding we cannot expand must not fail a resource.

Package JSON is not always clean FHIR: SUSHI writes ``null`` for a concept-less include (MedCom
terminology 1.4.0's issue-details ValueSet has ``"include": [{…}, null]``). Entries that are not
JSON objects carry no codes and are skipped rather than crashing the expansion.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Expansion", "ValueSetExpander"]

Expansion = frozenset[tuple[str, str]]
"""The (system, code) pairs a ValueSet contains."""


class _CannotExpand(Exception):
    pass


def _walk_concepts(concepts: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for concept in concepts:
        yield concept
        yield from _walk_concepts(concept.get("concept", ()))


def _descendants(concepts: Iterable[dict[str, Any]], root: str) -> set[str]:
    """Codes below ``root`` (excluding it) in a nested concept hierarchy."""
    for concept in _walk_concepts(concepts):
        if concept.get("code") == root:
            return {c["code"] for c in _walk_concepts(concept.get("concept", ()))}
    return set()


class ValueSetExpander:
    """Expands ValueSets by canonical URL, caching each result."""

    def __init__(self, value_sets: dict[str, dict[str, Any]], code_systems: dict[str, dict[str, Any]]) -> None:
        self._value_sets = value_sets
        self._code_systems = code_systems
        self._cache: dict[str, Expansion | None] = {}
        self._lock = threading.Lock()

    def add(self, resource: dict[str, Any]) -> None:
        """Register another ValueSet or CodeSystem (from a package); clears cached expansions."""
        url = resource.get("url")
        if not isinstance(url, str):
            return
        target = self._value_sets if resource.get("resourceType") == "ValueSet" else self._code_systems
        target[url] = resource
        with self._lock:
            self._cache.clear()

    def expand(self, url: str) -> Expansion | None:
        """The codes of a ValueSet, or ``None`` when it cannot be expanded from what we have."""
        url = url.split("|", 1)[0]
        if url in self._cache:
            return self._cache[url]
        try:
            result: Expansion | None = frozenset(self._expand(url, frozenset()))
        except _CannotExpand:
            result = None
        with self._lock:
            self._cache[url] = result
        return result

    def _expand(self, url: str, seen: frozenset[str]) -> set[tuple[str, str]]:
        if url in seen:
            raise _CannotExpand(url)
        vs = self._value_sets.get(url)
        if vs is None:
            raise _CannotExpand(url)
        compose = vs.get("compose")
        if not isinstance(compose, dict):
            return self._from_expansion(vs)
        codes: set[tuple[str, str]] = set()
        for include in _objects(compose.get("include")):
            codes |= self._include(include, seen | {url})
        for exclude in _objects(compose.get("exclude")):
            codes -= self._include(exclude, seen | {url})
        return codes

    def _from_expansion(self, vs: dict[str, Any]) -> set[tuple[str, str]]:
        expansion = vs.get("expansion")
        if not expansion or ("total" in expansion and expansion["total"] != _count(expansion.get("contains", ()))):
            raise _CannotExpand(vs.get("url", ""))
        return {(c.get("system", ""), c["code"]) for c in _walk_contains(expansion.get("contains", ()))}

    def _include(self, include: dict[str, Any], seen: frozenset[str]) -> set[tuple[str, str]]:
        system = include.get("system")
        codes: set[tuple[str, str]] | None = None
        if system is not None:
            codes = self._system_codes(system, include)
        for vs_url in include.get("valueSet") or ():
            if not isinstance(vs_url, str):
                continue
            nested = self._expand(vs_url.split("|", 1)[0], seen)
            if system is not None:
                nested = {pair for pair in nested if pair[0] == system}
            codes = nested if codes is None else codes & nested
        return codes or set()

    def _system_codes(self, system: str, include: dict[str, Any]) -> set[tuple[str, str]]:
        if include.get("concept") is not None:
            return {(system, c["code"]) for c in _objects(include["concept"]) if isinstance(c.get("code"), str)}
        cs = self._code_systems.get(system)
        if cs is None or cs.get("content") != "complete":
            raise _CannotExpand(system)
        concepts = cs.get("concept", ())
        selected = {c["code"] for c in _walk_concepts(concepts)}
        for flt in _objects(include.get("filter")):
            selected &= _apply_filter(concepts, flt)
        return {(system, code) for code in selected}


def _objects(items: Any) -> Iterator[dict[str, Any]]:
    """The JSON objects of a package array, skipping ``null`` and other non-objects."""
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            yield item


def _apply_filter(concepts: list[dict[str, Any]], flt: dict[str, Any]) -> set[str]:
    prop, op, value = flt.get("property"), flt.get("op"), flt.get("value", "")
    if prop != "concept":
        raise _CannotExpand(f"filter on {prop}")
    if op == "is-a":
        return _descendants(concepts, value) | {value}
    if op == "descendent-of":
        return _descendants(concepts, value)
    if op == "=":
        return {value}
    if op == "is-not-a":
        excluded = _descendants(concepts, value) | {value}
        return {c["code"] for c in _walk_concepts(concepts)} - excluded
    raise _CannotExpand(f"filter op {op}")


def _walk_contains(contains: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in contains:
        if "code" in item and not item.get("abstract", False):
            yield item
        yield from _walk_contains(item.get("contains", ()))


def _count(contains: Iterable[dict[str, Any]]) -> int:
    return sum(1 for _ in _walk_contains(contains))
