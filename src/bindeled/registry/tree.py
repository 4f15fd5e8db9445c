"""The SOR tree: parent links, containment, and values inherited from ancestors.

Inheritance follows SOR XML 2.0.0 (DOMAIN.md §2.2): a missing postal address comes from the nearest
ancestor that has one; a missing visiting address is the (resolved) postal address – not an
ancestor's visiting address; a missing activity address is the (resolved) visiting address; phone,
fax, e-mail, website and EAN each come from the nearest ancestor that has one. Resolved values are
:class:`Inherited` records, which say whose value it is, so the API can tell "own" from "inherited".

:meth:`SorTree.is_within` answers "is this unit the given unit or below it?" for the security gate.
It fails closed: an unknown SOR code is within nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from ..errors import InvalidRequest, NotFound
from .model import Address, EanLocation, Level, SorEntity, SorExport

__all__ = ["Inherited", "Resolved", "SorTree"]

T = TypeVar("T")

_PARENT_LEVEL = {Level.INSTITUTION: (Level.OWNER,), Level.UNIT: (Level.INSTITUTION, Level.UNIT)}


@dataclass(frozen=True, slots=True)
class Inherited(Generic[T]):
    """A resolved value and the SOR code of the entity it belongs to."""

    value: T
    source: str
    inherited: bool
    """False when the value is the entity's own."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """An entity's effective contact data after inheritance (None where no ancestor has a value)."""

    postal_address: Inherited[Address] | None
    visiting_address: Inherited[Address] | None
    activity_address: Inherited[Address] | None
    phone: Inherited[str] | None
    fax: Inherited[str] | None
    email: Inherited[str] | None
    website: Inherited[str] | None
    ean: Inherited[EanLocation] | None


class SorTree:
    """An immutable SOR tree built from entities listed parents first (as an export lists them)."""

    def __init__(
        self, entities: Iterable[SorEntity], *, snapshot_date: date | None = None, synthetic: bool = False
    ) -> None:
        self.snapshot_date = snapshot_date
        self.synthetic = synthetic
        self._by_code: dict[str, SorEntity] = {}
        self._children: dict[str, list[str]] = {}
        for entity in entities:
            self._add(entity)

    @classmethod
    def from_export(cls, export: SorExport) -> SorTree:
        return cls(export.entities, snapshot_date=export.snapshot_date, synthetic=export.synthetic)

    def _add(self, entity: SorEntity) -> None:
        code = entity.sor_code
        if code in self._by_code:
            raise InvalidRequest(f"SOR code {code} appears twice", location=(code,))
        if entity.level is Level.OWNER:
            if entity.parent is not None:
                raise InvalidRequest(f"Owner {code} has a parent", location=(code,))
        else:
            parent = self._by_code.get(entity.parent or "")
            if parent is None or parent.level not in _PARENT_LEVEL[entity.level]:
                raise InvalidRequest(f"SOR entity {code} has no valid parent listed before it", location=(code,))
            self._children[parent.sor_code].append(code)
        self._by_code[code] = entity
        self._children[code] = []

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[SorEntity]:
        """Every entity, parents before children."""
        return iter(self._by_code.values())

    def __contains__(self, sor_code: object) -> bool:
        return sor_code in self._by_code

    def get(self, sor_code: str) -> SorEntity | None:
        return self._by_code.get(sor_code)

    def __getitem__(self, sor_code: str) -> SorEntity:
        entity = self._by_code.get(sor_code)
        if entity is None:
            raise NotFound(f"No SOR entity {sor_code}", location=(sor_code,))
        return entity

    def parent(self, sor_code: str) -> SorEntity | None:
        parent = self[sor_code].parent
        return None if parent is None else self._by_code[parent]

    def children(self, sor_code: str) -> list[SorEntity]:
        return [self._by_code[c] for c in self._children[self[sor_code].sor_code]]

    def ancestors(self, sor_code: str) -> Iterator[SorEntity]:
        """The parent, grandparent, … up to the owner (nearest first)."""
        entity = self[sor_code]
        while entity.parent is not None:
            entity = self._by_code[entity.parent]
            yield entity

    def lineage(self, sor_code: str) -> Iterator[SorEntity]:
        """The entity itself, then its ancestors."""
        yield self[sor_code]
        yield from self.ancestors(sor_code)

    def owner(self, sor_code: str) -> SorEntity:
        """The institution owner at the top of the entity's tree."""
        *_, top = self.lineage(sor_code)
        return top

    def descendants(self, sor_code: str) -> Iterator[SorEntity]:
        """Everything below the entity, depth first, children in export order."""
        pending = list(reversed(self._children[self[sor_code].sor_code]))
        while pending:
            code = pending.pop()
            yield self._by_code[code]
            pending.extend(reversed(self._children[code]))

    def roots(self) -> list[SorEntity]:
        return [e for e in self._by_code.values() if e.parent is None]

    def is_within(self, unit: str, ancestor: str) -> bool:
        """Whether ``unit`` is ``ancestor`` or lies below it. Unknown codes are within nothing."""
        if unit not in self._by_code or ancestor not in self._by_code:
            return False
        return any(e.sor_code == ancestor for e in self.lineage(unit))

    def nearest(self, sor_code: str, pick: Callable[[SorEntity], T | None]) -> Inherited[T] | None:
        """The first non-None ``pick(entity)`` along the lineage: the rule every inherited field follows."""
        for entity in self.lineage(sor_code):
            value = pick(entity)
            if value is not None:
                return Inherited(value, entity.sor_code, entity.sor_code != sor_code)
        return None

    def resolve(self, sor_code: str) -> Resolved:
        """The entity's effective addresses, contact data and EAN."""
        entity = self[sor_code]
        postal = self.nearest(sor_code, lambda e: e.postal_address)
        visiting = _own(entity.visiting_address, sor_code) or postal
        return Resolved(
            postal_address=postal,
            visiting_address=visiting,
            activity_address=_own(entity.activity_address, sor_code) or visiting,
            phone=self.nearest(sor_code, lambda e: e.contact.phone),
            fax=self.nearest(sor_code, lambda e: e.contact.fax),
            email=self.nearest(sor_code, lambda e: e.contact.email),
            website=self.nearest(sor_code, lambda e: e.contact.website),
            ean=self.nearest(sor_code, lambda e: e.ean),
        )

    def active(self, on: date) -> Iterator[SorEntity]:
        """Entities valid on ``on`` whose ancestors are too (a closed hospital closes its wards)."""
        return (e for e in self if all(a.validity.is_active(on) for a in self.lineage(e.sor_code)))


def _own(address: Address | None, sor_code: str) -> Inherited[Address] | None:
    return None if address is None else Inherited(address, sor_code, inherited=False)
