"""Small-number suppression with complementary suppression (DOMAIN.md 9.1–9.2).

A table is published with its row totals, column totals and grand total. Counts 1–4 are *primary*
suppressed (shown ``<5``; zero is shown). Each row, each column, the row-totals line and the
column-totals line is an equation ``sum of cells = total``; an equation with exactly one masked term
would give that term away by subtraction. So while any equation has exactly one masked term, the
smallest unmasked non-zero cell of it is masked too (*complementary*, shown ``x``), or, when there is
no such cell, its total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RULE", "Suppressed", "suppress"]

RULE = (
    "Counts from 1 to 4 are shown as <5 (0 is shown); where a row or column would then give a masked count "
    "away by subtraction from its total, the next-smallest count (or the total) is masked too and shown as x. "
    "No rate is shown for a masked count."
)
"""The suppression rule as every published file states it."""

Element = tuple[str, int, int]
"""("cell", i, j), ("row", i, 0), ("col", j, 0) or ("all", 0, 0)."""


@dataclass(frozen=True, slots=True)
class Suppressed:
    """Which cells and totals are masked, and whether as primary (``<5``) or complementary (``x``)."""

    counts: tuple[tuple[int, ...], ...]
    masked: frozenset[Element]
    primary: frozenset[Element]

    def value(self, element: Element) -> int:
        kind, a, b = element
        if kind == "cell":
            return self.counts[a][b]
        if kind == "row":
            return sum(self.counts[a])
        if kind == "col":
            return sum(row[a] for row in self.counts)
        return sum(map(sum, self.counts))

    def shown(self, element: Element) -> str:
        """The published text: the count, ``<5`` or ``x``."""
        if element in self.primary:
            return "<5"
        return "x" if element in self.masked else str(self.value(element))

    def is_masked(self, element: Element) -> bool:
        return element in self.masked


def _lines(rows: int, cols: int) -> list[list[Element]]:
    lines = [[("cell", i, j) for j in range(cols)] + [("row", i, 0)] for i in range(rows)]
    lines += [[("cell", i, j) for i in range(rows)] + [("col", j, 0)] for j in range(cols)]
    lines.append([("row", i, 0) for i in range(rows)] + [("all", 0, 0)])
    lines.append([("col", j, 0) for j in range(cols)] + [("all", 0, 0)])
    return lines


def _complement(line: list[Element], masked: set[Element], table: Suppressed) -> Element:
    open_ = [e for e in line if e not in masked and table.value(e) > 0]
    return min(open_, key=lambda e: (e[0] != "cell", table.value(e), e))


def suppress(counts: Sequence[Sequence[int]], threshold: int = 5) -> Suppressed:
    """Mask ``1 <= count < threshold`` and the complements that keep every masked count underivable."""
    table = tuple(tuple(int(c) for c in row) for row in counts)
    if any(c < 0 for row in table for c in row) or len({len(r) for r in table}) > 1:
        raise ValueError("counts must be a rectangular table of non-negative integers")
    cols = len(table[0]) if table else 0
    primary = {("cell", i, j) for i, row in enumerate(table) for j, c in enumerate(row) if 0 < c < threshold}
    probe = Suppressed(table, frozenset(), frozenset())
    for element in [("row", i, 0) for i in range(len(table))] + [("col", j, 0) for j in range(cols)]:
        if 0 < probe.value(element) < threshold:
            primary.add(element)  # a small total is itself a small count
    if 0 < probe.value(("all", 0, 0)) < threshold:
        primary.add(("all", 0, 0))
    masked = set(primary)
    lines = _lines(len(table), cols)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(e in masked for e in line) == 1:
                masked.add(_complement(line, masked, probe))
                changed = True
    return Suppressed(table, frozenset(masked), frozenset(primary))
