"""Per-group shifts and running maxima on frames sorted by their group keys, as plain column passes.

Polars evaluates an order-dependent window (``shift().over(...)``, ``cum_max().over(...)``) group
by group, which with a million patients of a few rows each costs ~100× a plain shift. HAIBA sorts
its frames by patient (or admission) before every such step anyway, so a group's rows are
contiguous and "the previous row of the same group" is just the previous row when its keys are equal.
Every expression here assumes that sort and gives the same values as its ``.over`` form.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["cum_max_in_group", "cum_sum_in_group", "first_in_group", "last_in_group", "row_in_group", "shift_in_group"]


def _same(keys: Sequence[str], n: int) -> pl.Expr:
    """True where the row ``n`` places away (``n < 0``: later) belongs to the same group."""
    same = pl.lit(value=True)
    for key in keys:
        same = same & (pl.col(key) == pl.col(key).shift(n))
    return same.fill_null(value=False)


def shift_in_group(expr: pl.Expr, keys: Sequence[str], n: int = 1) -> pl.Expr:
    """``expr.shift(n).over(keys)`` on a frame sorted by ``keys``."""
    return pl.when(_same(keys, n)).then(expr.shift(n))


def first_in_group(keys: Sequence[str]) -> pl.Expr:
    """True on the first row of each group."""
    return ~_same(keys, 1)


def last_in_group(keys: Sequence[str]) -> pl.Expr:
    """True on the last row of each group."""
    return ~_same(keys, -1)


def cum_sum_in_group(expr: pl.Expr, keys: Sequence[str]) -> pl.Expr:
    """``expr.cum_sum().over(keys)`` on a frame sorted by ``keys`` (``expr`` without nulls)."""
    total = expr.cum_sum()
    before = pl.when(first_in_group(keys)).then(total - expr).forward_fill()
    return total - before


def row_in_group(keys: Sequence[str]) -> pl.Expr:
    """1, 2, … within each group: ``pl.int_range(1, pl.len() + 1).over(keys)`` on a sorted frame."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    return row - pl.when(first_in_group(keys)).then(row).forward_fill() + 1


def cum_max_in_group(frame: pl.DataFrame, column: str, keys: Sequence[str], name: str) -> pl.DataFrame:
    """Add ``name`` = ``pl.col(column).cum_max().over(keys)`` to a frame sorted by ``keys``
    (``column`` without nulls).

    A doubling scan: after the pass with step ``d`` each row holds the maximum of its last ``2d``
    rows within the group, so ``ceil(log2(largest group))`` whole-column passes suffice.
    """
    largest = frame.select(pl.len().over(keys).max()).item() if frame.height else 0
    out = frame.with_columns(pl.col(column).alias(name))
    step = 1
    while step < (largest or 0):
        earlier = pl.when(_same(keys, step)).then(pl.col(name).shift(step))
        out = out.with_columns(pl.max_horizontal(name, earlier).alias(name))
        step *= 2
    return out
