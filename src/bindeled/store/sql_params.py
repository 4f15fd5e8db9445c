"""Numbered parameters (``$1, $2``) for hand-written SQL; both stores bind them by number.

Multi-row statements cut the round trips to the database per batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import TypeVar

__all__ = ["ROWS_PER_STATEMENT", "chunks", "placeholders", "values_clause"]

T = TypeVar("T")

ROWS_PER_STATEMENT = 100
"""Rows per multi-row INSERT: a few hundred parameters, far inside SQLite's and PostgreSQL's limits."""


def placeholders(count: int, first: int = 1) -> str:
    """``$first, …`` for ``count`` parameters (an ``IN (…)`` list)."""
    return ", ".join(f"${i}" for i in range(first, first + count))


@lru_cache(maxsize=256)
def values_clause(rows: int, columns: int) -> str:
    """``($1, $2), ($3, $4)`` for ``rows`` rows of ``columns`` parameters."""
    return ", ".join(
        "(" + ", ".join(f"${row * columns + column}" for column in range(1, columns + 1)) + ")" for row in range(rows)
    )


def chunks(items: Sequence[T], size: int = ROWS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
