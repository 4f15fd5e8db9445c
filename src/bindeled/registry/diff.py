"""What changed between two SOR imports: the report a re-import gives.

Each entity in either import falls in one kind:

* ``added``   – only in the new import;
* ``removed`` – only in the old one (the register dropped it without an end date);
* ``ended``   – in both, and the new import gives it an end date it did not have (or an earlier one);
* ``changed`` – in both, with other differences.

Differences are listed per field with dotted names for nested records (``postal_address.postcode``,
``validity.to_date``, ``ean.gln``), so a report says exactly what moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from typing import Any

from .model import SorEntity
from .tree import SorTree

__all__ = ["ChangeKind", "EntityChange", "FieldChange", "SorDiff", "diff_trees", "field_changes"]


class ChangeKind(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    ENDED = "ended"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    """Dotted field path, e.g. ``contact.phone``."""
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class EntityChange:
    sor_code: str
    kind: ChangeKind
    changes: tuple[FieldChange, ...] = ()
    """The fields that differ (empty for added and removed entities)."""


@dataclass(frozen=True, slots=True)
class SorDiff:
    changes: tuple[EntityChange, ...]
    """Ordered by SOR code."""
    unchanged: int

    def of_kind(self, kind: ChangeKind) -> list[EntityChange]:
        return [c for c in self.changes if c.kind is kind]

    def counts(self) -> dict[str, int]:
        """How many entities of each kind (every kind present, also with 0), plus ``unchanged``."""
        out = {kind.value: len(self.of_kind(kind)) for kind in ChangeKind}
        out["unchanged"] = self.unchanged
        return out

    def __bool__(self) -> bool:
        return bool(self.changes)


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _flatten(f"{prefix}.{f.name}" if prefix else f.name, getattr(value, f.name))
    else:
        yield prefix, value


def field_changes(old: SorEntity, new: SorEntity) -> tuple[FieldChange, ...]:
    """Every leaf field that differs; a nested record present on one side only is one change."""
    out = []
    for f in fields(SorEntity):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b:
            continue
        if a is None or b is None or not is_dataclass(a):
            out.append(FieldChange(f.name, a, b))
            continue
        left, right = dict(_flatten(f.name, a)), dict(_flatten(f.name, b))
        out.extend(FieldChange(k, left[k], right[k]) for k in left if left[k] != right[k])
    return tuple(out)


def _kind(old: SorEntity, new: SorEntity) -> ChangeKind:
    before, after = old.validity.to_date, new.validity.to_date
    if after is not None and (before is None or after < before):
        return ChangeKind.ENDED
    return ChangeKind.CHANGED


def diff_trees(old: SorTree, new: SorTree) -> SorDiff:
    """Compare two imports entity by entity (matched on SOR code)."""
    changes, unchanged = [], 0
    for code in sorted({e.sor_code for e in old} | {e.sor_code for e in new}):
        before, after = old.get(code), new.get(code)
        if before is None:
            changes.append(EntityChange(code, ChangeKind.ADDED))
        elif after is None:
            changes.append(EntityChange(code, ChangeKind.REMOVED))
        elif before == after:
            unchanged += 1
        else:
            changes.append(EntityChange(code, _kind(before, after), field_changes(before, after)))
    return SorDiff(tuple(changes), unchanged)
