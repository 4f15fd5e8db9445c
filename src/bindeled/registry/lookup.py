"""Lookups from the other Danish organisation ids to SOR entities.

=================  =========================  ==========================================
id                 gives                      note
=================  =========================  ==========================================
SOR code           one entity
SHAK code          one entity                 several only if the register is inconsistent
ydernummer         a list                     several units may share one provider number
EAN / GLN          the entity defining it     not the ones inheriting it
=================  =========================  ==========================================

Every lookup takes ``on``: with a date, only entities valid that day (and whose ancestors are) count,
so closed units drop out of "current" lookups; with ``None`` every entity counts, closed ones
included, so history stays resolvable. For EAN lookups on a date the EAN location itself must be
valid and not marked non-active.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from ..errors import Conflict
from .fhir import SHAK_SYSTEM, SOR_SYSTEM, YDERNUMMER_SYSTEM
from .gln import normalise_gln_system
from .model import SorEntity
from .tree import SorTree

__all__ = ["AmbiguousLookup", "SorLookup"]


class AmbiguousLookup(Conflict):
    """An id that should name one entity names several valid ones."""


def _index(tree: SorTree, key: Callable[[SorEntity], str | None]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for entity in tree:
        value = key(entity)
        if value is not None:
            index[value].append(entity.sor_code)
    return dict(index)


class SorLookup:
    """Indexes over one tree (build once per import; lookups are dictionary reads)."""

    def __init__(self, tree: SorTree) -> None:
        self.tree = tree
        self._shak = _index(tree, lambda e: e.shak)
        self._yder = _index(tree, lambda e: e.ydernummer)
        self._gln = _index(tree, lambda e: e.ean.gln if e.ean else None)

    def is_valid(self, sor_code: str, on: date | None) -> bool:
        """Whether the entity and all its ancestors are valid on ``on`` (always, when ``on`` is None)."""
        return on is None or all(e.validity.is_active(on) for e in self.tree.lineage(sor_code))

    def _matches(self, codes: list[str], on: date | None) -> list[SorEntity]:
        return sorted((self.tree[c] for c in codes if self.is_valid(c, on)), key=lambda e: e.sor_code)

    def by_sor(self, sor_code: str, on: date | None = None) -> SorEntity | None:
        entity = self.tree.get(sor_code)
        return entity if entity is not None and self.is_valid(sor_code, on) else None

    def by_shak(self, shak: str, on: date | None = None) -> SorEntity | None:
        """The entity with this SHAK code.

        Without a date, a SHAK code reused after a unit closed names the newest holder (latest start).
        With a date, two valid holders on that day raise :class:`AmbiguousLookup`.
        """
        found = self._matches(self._shak.get(shak, []), on)
        if not found:
            return None
        if on is None:
            return max(found, key=lambda e: (e.validity.start or date.min, e.sor_code))
        if len(found) > 1:
            raise AmbiguousLookup(f"SHAK code {shak} names {len(found)} valid SOR entities", location=(shak,))
        return found[0]

    def by_ydernummer(self, ydernummer: str, on: date | None = None) -> list[SorEntity]:
        """Every entity with this provider number, by SOR code."""
        return self._matches(self._yder.get(ydernummer, []), on)

    def by_gln(self, gln: str, on: date | None = None) -> SorEntity | None:
        """The entity whose own EAN location this is (on a date: only while it receives messages)."""
        found = [
            e
            for e in self._matches(self._gln.get(gln, []), on)
            if on is None or (e.ean is not None and e.ean.is_receiving(on))
        ]
        if len(found) > 1:
            raise AmbiguousLookup(f"GLN {gln} is defined by {len(found)} SOR entities", location=(gln,))
        return found[0] if found else None

    def by_identifier(self, system: str, value: str, on: date | None = None) -> list[SorEntity]:
        """The entities a FHIR identifier names (SOR, ydernummer, GLN – also as ``urn:oid:1.3.88`` – or SHAK).

        An unknown system names nothing: the caller decides whether that is an error.
        """
        if normalise_gln_system(system):
            found = self.by_gln(value, on)
        elif system == SOR_SYSTEM:
            found = self.by_sor(value, on)
        elif system == SHAK_SYSTEM:
            found = self.by_shak(value, on)
        elif system == YDERNUMMER_SYSTEM:
            return self.by_ydernummer(value, on)
        else:
            return []
        return [found] if found is not None else []

    def municipality_of(self, sor_code: str) -> str | None:
        """The kommunekode of the entity or its nearest ancestor that has one (a municipality owner)."""
        found = self.tree.nearest(sor_code, lambda e: e.municipality_code)
        return found.value if found else None

    def region_of(self, sor_code: str) -> str | None:
        """The SOR region code (1081–1085) of the entity or its nearest ancestor.

        Where no entity states one, the region registered on the nearest EAN location is used.
        """
        found = self.tree.nearest(sor_code, lambda e: e.region_code)
        found = found or self.tree.nearest(sor_code, lambda e: e.ean.region_code if e.ean else None)
        return found.value if found else None

    def receiving_gln(self, sor_code: str, on: date) -> str | None:
        """Where messages for the entity go on ``on``: its own or nearest ancestor's receiving GLN."""
        if not self.is_valid(sor_code, on):
            return None
        found = self.tree.nearest(sor_code, lambda e: e.ean if e.ean and e.ean.is_receiving(on) else None)
        return found.value.gln if found else None
