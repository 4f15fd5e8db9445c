"""Hypothesis strategies that put wrongly typed JSON into real resources.

One value somewhere in a document (chosen by Hypothesis) is replaced by a value of another JSON
type — a list where a string belongs, an object for a number, ``null``, an empty array — the way
a careless client breaks an otherwise valid resource.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

__all__ = ["json_paths", "mutated", "other_json"]

Path = tuple[str | int, ...]

other_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
"""Any JSON value."""


def json_paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every position below the document root, depth first."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*path, key)
        yield from json_paths(item, (*path, key))


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """A deep copy of ``document`` with the value at one position replaced by another JSON value."""
    paths = list(json_paths(document))
    path = draw(st.sampled_from(paths))
    copied = copy.deepcopy(document)
    parent: Any = copied
    for key in path[:-1]:
        parent = parent[key]
    original = parent[path[-1]]
    parent[path[-1]] = draw(other_json.filter(lambda v: type(v) is not type(original)))
    return copied, path
