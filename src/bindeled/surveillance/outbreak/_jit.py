"""The one way this package compiles numeric kernels with numba.

Kept apart so that every kernel gets the same settings: an on-disk cache (a new process loads the
machine code instead of compiling again), no GIL, and IEEE division (x/0 is inf or NaN, as in C
and R) instead of Python's ZeroDivisionError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

_F = TypeVar("_F", bound=Callable[..., Any])


def compiled(func: _F) -> _F:
    """``numba.njit`` with this package's settings, typed so that callers keep the signature."""
    return cast(_F, numba.njit(cache=True, nogil=True, error_model="numpy")(func))
