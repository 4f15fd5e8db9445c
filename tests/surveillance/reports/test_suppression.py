"""Complementary suppression: no masked count can be worked out from the published totals by subtraction."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.surveillance.reports.suppression import Element, Suppressed, suppress

counts = st.integers(1, 5).flatmap(
    lambda cols: st.lists(
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 17, 40]), min_size=cols, max_size=cols),
        min_size=1,
        max_size=5,
    )
)


def _lines(t: Suppressed) -> list[list[Element]]:
    rows, cols = len(t.counts), len(t.counts[0])
    lines = [[("cell", i, j) for j in range(cols)] + [("row", i, 0)] for i in range(rows)]
    lines += [[("cell", i, j) for i in range(rows)] + [("col", j, 0)] for j in range(cols)]
    lines.append([("row", i, 0) for i in range(rows)] + [("all", 0, 0)])
    lines.append([("col", j, 0) for j in range(cols)] + [("all", 0, 0)])
    return lines


def _derivable(t: Suppressed) -> set[Element]:
    """Masked terms an attacker gets by subtracting the published terms of one line from another term."""
    found: set[Element] = set()
    for line in _lines(t):
        hidden = [e for e in line if t.is_masked(e)]
        if len(hidden) == 1:
            found.add(hidden[0])
    return found


@given(counts)
@settings(max_examples=400)
def test_no_masked_count_can_be_derived_by_subtraction(table: list[list[int]]) -> None:
    assert _derivable(suppress(table)) == set()


@given(counts)
def test_small_counts_are_masked_and_zero_and_large_are_shown_unless_complementary(table: list[list[int]]) -> None:
    t = suppress(table)
    for i, row in enumerate(table):
        for j, c in enumerate(row):
            text = t.shown(("cell", i, j))
            if 1 <= c <= 4:
                assert text == "<5"
            elif c == 0:
                assert text == "0"
            else:
                assert text in (str(c), "x")


@given(counts)
def test_published_numbers_are_true(table: list[list[int]]) -> None:
    t = suppress(table)
    for line in _lines(t):
        for e in line:
            if not t.is_masked(e):
                assert t.shown(e) == str(t.value(e))


def test_one_small_cell_in_a_row_masks_the_next_smallest() -> None:
    t = suppress([[3, 10, 20], [30, 40, 50]])
    assert t.shown(("cell", 0, 0)) == "<5"
    assert t.shown(("cell", 0, 1)) == "x"  # the row total would otherwise give the 3 away
    assert t.shown(("cell", 1, 0)) == "x"  # and so would the first column's total
    assert t.shown(("cell", 1, 2)) == "50"


def test_nothing_small_nothing_masked() -> None:
    assert suppress([[0, 5], [7, 0]]).masked == frozenset()
