"""Bound parameters for compiled SQL, numbered so fragments can be built in any order.

PostgreSQL numbers its placeholders ``$1, $2, …``; SQLite accepts the same numbering as
``?1, ?2, …``. Values never enter the SQL text.
"""

from __future__ import annotations

from typing import Any

from ..base import Dialect

__all__ = ["Params"]


class Params:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        """A placeholder bound to ``value``."""
        self.values.append(value)
        mark = "?" if self.dialect == "sqlite" else "$"
        return f"{mark}{len(self.values)}"

    def many(self, values: tuple[Any, ...] | list[Any]) -> str:
        """Comma-separated placeholders for an ``IN (…)`` list."""
        return ", ".join(self(v) for v in values)
