"""fixed[x] and pattern[x] comparison, as profiles use them and as slice discriminators use them.

``fixed`` means exactly equal; ``pattern`` means every value in the pattern is present in the
instance (arrays: each pattern item is matched by some instance item). Numbers compare by value,
so a profile's ``1.0`` read with the stdlib matches an instance's exact ``Decimal("1.0")``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["fixed_matches", "pattern_matches", "value_at_fixed"]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


def _scalar_equal(expected: Any, actual: Any) -> bool:
    left, right = _number(expected), _number(actual)
    if left is not None and right is not None:
        return left == right
    return bool(type(expected) is type(actual) and expected == actual)


def fixed_matches(expected: Any, actual: Any) -> bool:
    """Exact equality of two JSON trees (numbers by value)."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(fixed_matches(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(fixed_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return _scalar_equal(expected, actual)


def pattern_matches(pattern: Any, actual: Any) -> bool:
    """Whether ``actual`` contains everything in ``pattern``."""
    if isinstance(pattern, dict):
        return isinstance(actual, dict) and all(
            k in actual and pattern_matches(v, actual[k]) for k, v in pattern.items()
        )
    if isinstance(pattern, list):
        items = actual if isinstance(actual, list) else [actual]
        return all(any(pattern_matches(p, a) for a in items) for p in pattern)
    if isinstance(actual, list):
        return any(_scalar_equal(pattern, a) for a in actual)
    return _scalar_equal(pattern, actual)


def value_at_fixed(element: dict[str, Any]) -> tuple[str, Any] | None:
    """An element definition's ``("fixed" | "pattern", value)``, if it has one."""
    for key, value in element.items():
        if key.startswith("fixed") and key != "fixed":
            return ("fixed", value)
        if key.startswith("pattern") and key != "pattern":
            return ("pattern", value)
    return None
