"""Sound short-cuts for the most common invariant shapes, so fhirpathpy runs less often.

Most R4 invariants are ``or``-chains whose first operands are trivial tests such as
``code.empty()``, ``system.exists()``, ``start.hasValue().not()`` or
``reference.startsWith('#').not()``. In FHIRPath ``or`` is true as soon as one operand is true,
so when one of these simple operands is *definitely* true on the JSON node, the whole invariant
holds and the general engine is not needed; when every operand is recognised and definitely
false, the invariant definitely fails (``and`` binds tighter than ``or``, so an operand like
``a and b`` stays whole; chains with ``implies`` or ``xor`` are not short-cut). Each recogniser
errs on the safe side: "not sure" is treated as "not shown true", and the full expression is
evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Shortcut", "compile_shortcut", "split_or"]

Shortcut = Callable[[Any], bool | None]
"""The invariant's certain result on a JSON node, or ``None`` when only the engine can tell."""

_PATH = r"((?:[A-Za-z][A-Za-z0-9]*|`[A-Za-z]+`)(?:\.(?:[A-Za-z][A-Za-z0-9]*|`[A-Za-z]+`))*)"
_EMPTY = re.compile(rf"{_PATH}\.empty\(\)")
_EXISTS = re.compile(rf"{_PATH}\.exists\(\)")
_NO_VALUE = re.compile(rf"{_PATH}\.hasValue\(\)\.not\(\)")
_NOT_STARTS = re.compile(rf"{_PATH}\.startsWith\('([^'\\]*)'\)\.not\(\)")
_RESERVED = frozenset({"and", "or", "xor", "implies", "not", "true", "false"})


def split_or(expression: str) -> list[str]:
    """Operands of a top-level ``or`` chain (outside parentheses and string literals)."""
    parts: list[str] = []
    depth, start, quoted, i = 0, 0, False, 0
    while i < len(expression):
        ch = expression[i]
        if ch == "'" and (i == 0 or expression[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch in "([":
            depth += 1
        elif not quoted and ch in ")]":
            depth -= 1
        elif not quoted and depth == 0 and expression.startswith(" or ", i):
            parts.append(expression[start:i].strip())
            start = i + 4
            i += 3
        i += 1
    parts.append(expression[start:].strip())
    return parts


def _steps(path: str) -> list[str] | None:
    steps = [s.strip("`") for s in path.split(".")]
    if any(s in _RESERVED or s[0].isupper() for s in steps):
        return None  # a type name (Patient.x) or keyword: the context is not a plain member path
    return steps


_MISSING = object()


def _children(items: list[Any], name: str, *, choice_aware: bool) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if not choice_aware:  # one key can match: look it up rather than scan the object
            value = item.get(name, _MISSING)
            if value is not _MISSING:
                out.extend(value if isinstance(value, list) else (value,))
            continue
        for key, value in item.items():
            hit = key == name or (key.startswith(name) and key[len(name) : len(name) + 1].isupper())
            if hit or key == "_" + name:
                out.extend(value if isinstance(value, list) else (value,))
    return out


def _presence(node: Any, steps: list[str]) -> bool | None:
    """True if the path certainly has a value, False if it certainly has none, else None.

    The exact walk (plain member names) decides "present"; only when it finds nothing is the
    loose walk (choice types and ``_name`` extensions too) needed to tell "absent" from "unsure".
    """
    exact: list[Any] = [node]
    for step in steps:
        exact = [v for v in _children(exact, step, choice_aware=False) if v is not None]
        if not exact:
            break
    if exact:
        return True
    loose: list[Any] = [node]
    for step in steps:
        loose = _children(loose, step, choice_aware=True)
        if not loose:
            return False
    return None


def _has_value(node: Any, name: str) -> bool | None:
    """FHIRPath ``name.hasValue()`` on a JSON node, when it is certain."""
    if not isinstance(node, dict):
        return None
    value = node.get(name)
    if value is None:
        return False if not any(k.startswith(name) for k in node) and "_" + name not in node else None
    if isinstance(value, str | bool | int | float) or (not isinstance(value, dict | list)):
        return True
    return None


def _path_test(pattern: re.Pattern[str], text: str) -> list[str] | None:
    match = pattern.fullmatch(text)
    return _steps(match.group(1)) if match else None


def _negate(value: bool | None) -> bool | None:
    return None if value is None else not value


def _operand(text: str) -> Shortcut | None:
    empty = _path_test(_EMPTY, text)
    if empty is not None:
        return lambda node: _negate(_presence(node, empty))
    exists = _path_test(_EXISTS, text)
    if exists is not None:
        return lambda node: _presence(node, exists)
    no_value = _path_test(_NO_VALUE, text)
    if no_value is not None and len(no_value) == 1:
        name = no_value[0]
        return lambda node: _negate(_has_value(node, name))
    match = _NOT_STARTS.fullmatch(text)
    steps = _steps(match.group(1)) if match else None
    if match is not None and steps is not None and len(steps) == 1:
        return _not_starts_with(steps[0], match.group(2))
    return None


def _not_starts_with(name: str, prefix: str) -> Shortcut:
    def test(node: Any) -> bool | None:
        value = node.get(name) if isinstance(node, dict) else None
        return not value.startswith(prefix) if isinstance(value, str) else None

    return test


def compile_shortcut(expression: str) -> Shortcut | None:
    """A short-cut for an invariant, or ``None`` when none of its operands is recognised."""
    if " implies " in expression or " xor " in expression:
        return None  # lower or equal precedence than ``or``: the chain is not the top level
    operands = [_operand(p) for p in split_or(expression)]
    recognised = [s for s in operands if s is not None]
    if not recognised:
        return None
    complete = len(recognised) == len(operands)

    def shortcut(node: Any) -> bool | None:
        all_false = complete
        for test in recognised:
            result = test(node)
            if result is True:
                return True
            all_false = all_false and result is False
        return False if all_false else None

    return shortcut
