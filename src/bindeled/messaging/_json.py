"""Tolerant readers for JSON trees that have not been validated yet (a message may be anything)."""

from __future__ import annotations

from typing import Any

__all__ = ["as_dict", "as_list"]


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list (a wrong shape reads as absent)."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}
