"""``control_from_r_json``: R's control lists, written as JSON, into our typed control records.

People coming from R write ``{"b":5,"w":3,"range":[209,260],"thresholdMethod":"nbPlugin"}`` with
R's own names and values; a name left out takes R's default. Unknown names are rejected (a typo
must not silently fall back to a default). R-only switches with no effect on the numbers
(``verbose``, ``glmWarnings``, ``plot``) are accepted and ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from .controls import (
    BayesControl,
    Control,
    CusumControl,
    EarsControl,
    FarringtonControl,
    FarringtonFlexibleControl,
    GlrControl,
    Mu0Model,
)

__all__ = ["METHODS", "ControlError", "control_from_r_json"]

METHODS: Mapping[str, type[Control]] = {
    "farringtonFlexible": FarringtonFlexibleControl,
    "farrington": FarringtonControl,
    "earsC": EarsControl,
    "cusum": CusumControl,
    "glrnb": GlrControl,
    "glrpois": GlrControl,
    "bayes": BayesControl,
}
"""The CLI's ``--method`` names (R's function names) and their control records."""

_IGNORED = frozenset({"verbose", "glmWarnings", "plot"})
_ALIASES = {"c.ARL": "c_ARL"}


class ControlError(ValueError):
    """A control JSON that R would not accept, or that names an unknown control."""


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise ControlError(f"control {name!r} must be a whole number")
    return int(value)


def _float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ControlError(f"control {name!r} must be a finite number")
    return float(value)


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ControlError(f"control {name!r} must be true or false")
    return value


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ControlError(f"control {name!r} must be a string")
    return value


def _pair(name: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise ControlError(f"control {name!r} must be a list of two whole numbers")
    return _int(name, value[0]), _int(name, value[1])


def _optional(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def parse_or_none(name: str, value: Any) -> Any:
        return None if value is None else parse(name, value)

    return parse_or_none


def _number_or_glm(name: str, value: Any) -> float | str | None:
    if value is None or value == "glm":
        return value  # type: ignore[no-any-return]
    return _float(name, value)


def _mu0(name: str, value: Any) -> tuple[float, ...] | Mu0Model | None:
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(_float(name, v) for v in value)
    if isinstance(value, dict):
        unknown = set(value) - {"S", "trend", "refit"}
        if unknown:
            raise ControlError(f"unknown mu0 model setting(s): {', '.join(sorted(unknown))}")
        return Mu0Model(
            S=_int("mu0.S", value.get("S", 1)),
            trend=_bool("mu0.trend", value.get("trend", False)),
            refit=_bool("mu0.refit", value.get("refit", False)),
        )
    raise ControlError("control 'mu0' must be a list of means or an object {S, trend, refit}")


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "range": _optional(_pair),
    "limit54": _pair,
    "b": _int,
    "w": _int,
    "noPeriods": _int,
    "pastWeeksNotIncluded": _optional(_int),
    "baseline": _int,
    "Mtilde": _int,
    "M": _int,
    "xMax": _int,
    "reweight": _bool,
    "trend": _bool,
    "populationOffset": _bool,
    "actY": _bool,
    "r_compat": _bool,
    "powertrans": _str,
    "thresholdMethod": _str,
    "method": _str,
    "trans": _str,
    "change": _str,
    "dir": _str,
    "ret": _str,
    "m": _number_or_glm,
    "mu0": _mu0,
    "alpha": _optional(_float),
    "theta": _optional(_float),
}


def _parse_value(name: str, value: Any) -> Any:
    parser: Callable[[str, Any], Any] = _PARSERS.get(name, _float)
    if isinstance(value, list) and len(value) == 1 and name not in ("range", "limit54", "mu0"):
        value = value[0]  # R does not tell a scalar from a length-one vector
    return parser(name, value)


def control_from_r_json(method: str, control: str | Mapping[str, Any]) -> Control:
    """Build the control record for ``method`` from R-style JSON text or an already parsed mapping.

    Raises ``ControlError`` naming the offending control for unknown names or wrong types.
    """
    if method not in METHODS:
        raise ControlError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if isinstance(control, str):
        try:
            control = json.loads(control) if control.strip() else {}
        except json.JSONDecodeError as exc:
            raise ControlError(f"control is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(control, Mapping):
        raise ControlError("control must be a JSON object")
    cls = METHODS[method]
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for raw, value in control.items():
        name = _ALIASES.get(raw, raw)
        if raw in _IGNORED:
            continue
        if name not in fields:
            raise ControlError(f"unknown control {raw!r} for {method}; known: {', '.join(sorted(fields))}")
        values[name] = _parse_value(name, value)
    if method == "glrpois" and values.get("alpha") not in (None, 0.0):
        raise ControlError("glrpois has to operate with alpha = 0")
    return cls(**values)
