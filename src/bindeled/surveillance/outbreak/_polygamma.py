"""Digamma and trigamma for positive arguments, compiled, for ``theta.ml`` inside numba.

Why our own: numba cannot call ``scipy.special`` and still cache its machine code (a foreign
function pointer pins the code to one process). Both functions use the textbook method — the
recurrence ``ψ(x) = ψ(x + 1) - 1/x`` (``ψ'(x) = ψ'(x + 1) + 1/x²``) up to ``x >= 10`` and the
asymptotic Bernoulli series from there — which is accurate to a few units in the last place for
``x > 0``, as scipy's and R's are; tests compare them with ``scipy.special`` to 1e-14.
Non-positive or NaN arguments give NaN (the caller never passes them).
"""

from __future__ import annotations

import math

from ._jit import compiled

_SHIFT = 10.0
"""Below this the recurrence moves the argument up; above it seven series terms reach 1e-17."""
_DIGAMMA_SERIES = (-1.0 / 12.0, 691.0 / 32760.0, -1.0 / 132.0, 1.0 / 240.0, -1.0 / 252.0, 1.0 / 120.0, -1.0 / 12.0)
"""``-B_2k / 2k`` for k = 7 down to 1: the coefficients of ``x^-2k`` in ``ψ(x) - log x + 1/2x``."""
_TRIGAMMA_SERIES = (7.0 / 6.0, -691.0 / 2730.0, 5.0 / 66.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 1.0 / 6.0)
"""``B_2k`` for k = 7 down to 1: the coefficients of ``x^-(2k+1)`` in ``ψ'(x) - 1/x - 1/2x²``."""


@compiled
def _horner(coefficients: tuple[float, ...], f: float) -> float:
    """``Σ c_k f^k`` with the coefficients given from the highest power down."""
    total = 0.0
    for c in coefficients:
        total = c + f * total
    return total


@compiled
def digamma(x: float) -> float:
    """``ψ(x) = d/dx log Γ(x)`` for ``x > 0``."""
    if not x > 0.0:
        return math.nan
    acc = 0.0
    while x < _SHIFT:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    tail = f * _horner(_DIGAMMA_SERIES, f)
    return acc + (math.log(x) - 0.5 / x + tail)


@compiled
def trigamma(x: float) -> float:
    """``ψ'(x)`` for ``x > 0``."""
    if not x > 0.0:
        return math.nan
    acc = 0.0
    while x < _SHIFT:
        acc += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    tail = _horner(_TRIGAMMA_SERIES, f)
    return acc + (1.0 + (0.5 + tail / x) / x) / x
