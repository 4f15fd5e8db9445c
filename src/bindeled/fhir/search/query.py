"""URL query → :class:`SearchRequest`: modifiers, prefixes, OR/AND, chains, ``_has`` and result parameters.

Strict handling (``Prefer: handling=strict``) refuses unknown or unsupported parameters with
:class:`~bindeled.errors.UnsupportedParameter`; lenient handling leaves them out and lists them in
``SearchRequest.ignored`` so the API can report them. A value that cannot be parsed is an
:class:`~bindeled.errors.InvalidRequest` in both modes: silently searching for something else than
was asked would return wrong answers. Every error's location is the parameter as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ...errors import InvalidRequest, NotFound, UnsupportedParameter
from ..definitions import Definitions
from ._values import parse_value, split_escaped
from .cursor import CURSOR_PARAM, decode_cursor
from .registry import SearchParam, SearchRegistry, registry_for
from .request import Chain, Compartment, Condition, Criterion, Has, Include, MissingQuery, SearchRequest, SortKey

__all__ = ["MAX_COUNT", "parse_search"]

MAX_COUNT = 1000
"""The largest page a client may ask for; larger ``_count`` values are capped."""

_MODIFIERS: dict[str, frozenset[str]] = {
    "string": frozenset({"exact", "contains"}),
    "token": frozenset({"text", "not", "of-type", "in", "not-in", "above", "below"}),
    "reference": frozenset({"identifier"}),
    "uri": frozenset({"below", "above"}),
}
_IGNORED_BY_DESIGN = frozenset({"_format", "_pretty"})
_SUMMARY = frozenset({"true", "text", "data", "count", "false"})
_TOTAL = frozenset({"none", "estimate", "accurate"})


@dataclass
class _State:
    registry: SearchRegistry
    resource_type: str | None
    strict: bool
    base_url: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        if self.strict:
            raise UnsupportedParameter(message, location=(name,))
        self.ignored.append(name)


def parse_search(
    resource_type: str | None,
    params: list[tuple[str, str]],
    definitions: Definitions | SearchRegistry,
    *,
    strict: bool,
    compartment: tuple[str, str] | None = None,
    base_url: str | None = None,
) -> SearchRequest:
    """Parse a search's query parameters (in order, repeats allowed) for ``resource_type``.

    ``base_url`` is this server's FHIR base URL: a reference value ``{base_url}/Patient/1`` then
    means ``Patient/1`` (stored relative references match it).
    ``compartment`` (``("Patient", "123")``) limits the search to that compartment, as the official
    CompartmentDefinition says; a type outside the compartment is :class:`~bindeled.errors.NotFound`.
    """
    state = _State(registry_for(definitions), resource_type, strict, base_url)
    if compartment is not None:
        state.conditions.append(_compartment(state.registry, resource_type, compartment))
    for name, value in params:
        if name in _IGNORED_BY_DESIGN:
            continue
        handler = _RESULT_PARAMS.get(name.split(":", 1)[0])
        try:
            if handler is not None:
                handler(state, name, value)
            else:
                _condition(state, name, value)
        except _Unknown as exc:
            state.refuse(name, str(exc))
    return replace(SearchRequest(resource_type, tuple(state.conditions), ignored=tuple(state.ignored)), **state.result)


def _compartment(registry: SearchRegistry, resource_type: str | None, compartment: tuple[str, str]) -> Compartment:
    kind, id = compartment
    if resource_type is None:
        raise InvalidRequest("A compartment search names a resource type", location=(kind,))
    params = registry.definitions.compartment_params(kind, resource_type)
    if kind not in registry.definitions.compartments:
        raise NotFound(f"Unknown compartment {kind!r}")
    if not params and resource_type != kind:
        raise NotFound(f"{resource_type} is not in the {kind} compartment")
    return Compartment(kind, id, tuple(p for p in params if p != "{def}"))


class _Unknown(Exception):
    """A parameter this server does not know or support (strict: 400; lenient: ignored)."""


def _types(state: _State) -> tuple[str, ...]:
    return (state.resource_type,) if state.resource_type else ("Resource",)


def _lookup(registry: SearchRegistry, resource_type: str, code: str) -> SearchParam:
    found = registry.get(resource_type, code)
    if found is None:
        raise _Unknown(f"Unknown search parameter {code!r} for {resource_type}")
    return found


def _condition(state: _State, name: str, value: str) -> None:
    kind = state.resource_type or "Resource"
    state.conditions.append(_parse_condition(state.registry, kind, name, value, name, state.base_url))


def _parse_condition(
    registry: SearchRegistry, rtype: str, spec: str, value: str, name: str, base_url: str | None
) -> Condition:
    if spec.startswith("_has:"):
        return _has(registry, rtype, spec[5:], value, name, base_url)
    head, dot, rest = spec.partition(".")
    code, _, modifier = head.partition(":")
    param = _lookup(registry, rtype, code)
    if dot:
        return _chain(registry, param, modifier or None, rest, value=value, name=name, base_url=base_url)
    return _criterion(registry, param, modifier or None, value, name, base_url)


def _criterion(
    registry: SearchRegistry, param: SearchParam, modifier: str | None, value: str, name: str, base_url: str | None
) -> Criterion:
    if modifier == "missing":
        if value not in ("true", "false"):
            raise InvalidRequest(f"Search parameter {name}: :missing takes true or false", location=(name,))
        return Criterion(param, modifier, (MissingQuery(value == "true"),), name)
    if param.type == "special" or (param.type == "composite" and not param.components):
        raise _Unknown(f"Search parameter {param.code!r} ({param.type}) is not supported")
    if modifier is not None and not _allowed(registry, param, modifier):
        raise _Unknown(f"Modifier :{modifier} is not supported for {param.code!r}")
    values = tuple(
        parse_value(param, modifier, raw, name, registry.definitions, base_url) for raw in split_escaped(value, ",")
    )
    return Criterion(param, modifier, values, name)


def _allowed(registry: SearchRegistry, param: SearchParam, modifier: str) -> bool:
    if modifier in _MODIFIERS.get(param.type, frozenset()):
        return True
    return (
        param.type == "reference" and registry.definitions.is_resource_type(modifier) and _targets_ok(param, modifier)
    )


def _targets_ok(param: SearchParam, target: str) -> bool:
    return not param.targets or target in param.targets or "Resource" in param.targets


def _chain(
    registry: SearchRegistry,
    param: SearchParam,
    modifier: str | None,
    rest: str,
    *,
    value: str,
    name: str,
    base_url: str | None,
) -> Chain:
    if param.type != "reference":
        raise InvalidRequest(f"Search parameter {name}: only reference parameters can be chained", location=(name,))
    if modifier is not None and not (registry.definitions.is_resource_type(modifier) and _targets_ok(param, modifier)):
        raise _Unknown(f"{modifier!r} is not a target type of {param.code!r}")
    inner_code = rest.partition(".")[0].partition(":")[0]
    candidates = (modifier,) if modifier else param.targets
    types = tuple(t for t in candidates if inner_code.startswith("_has") or registry.get(t, inner_code) is not None)
    if not types:
        raise _Unknown(f"No target type of {param.code!r} has a search parameter {inner_code!r}")
    inner = _parse_condition(registry, types[0], rest, value, name, base_url)
    return Chain(param, types, inner)


def _has(registry: SearchRegistry, rtype: str, spec: str, value: str, name: str, base_url: str | None) -> Has:
    source, _, rest = spec.partition(":")
    ref_code, _, inner_spec = rest.partition(":")
    if not (source and ref_code and inner_spec):
        raise InvalidRequest(f"Search parameter {name}: _has is _has:Type:reference:parameter", location=(name,))
    if not registry.definitions.is_resource_type(source):
        raise _Unknown(f"Unknown resource type {source!r} in _has")
    param = _lookup(registry, source, ref_code)
    if param.type != "reference" or (rtype != "Resource" and not _targets_ok(param, rtype)):
        raise InvalidRequest(f"Search parameter {name}: {ref_code!r} does not refer to {rtype}", location=(name,))
    return Has(source, param, _parse_condition(registry, source, inner_spec, value, name, base_url))


# -- result parameters ------------------------------------------------------------------------------

_Handler = Callable[[_State, str, str], None]


def _int(name: str, value: str) -> int:
    if not value.isdigit():
        raise InvalidRequest(f"{name} must be a non-negative whole number", location=(name,))
    return int(value)


def _count(state: _State, name: str, value: str) -> None:
    state.result["count"] = min(_int(name, value), MAX_COUNT)


def _offset(state: _State, name: str, value: str) -> None:
    state.result["offset"] = _int(name, value)


def _cursor(state: _State, name: str, value: str) -> None:
    state.result["cursor"] = decode_cursor(value)


def _sort(state: _State, name: str, value: str) -> None:
    keys: list[SortKey] = []
    for item in value.split(","):
        descending = item.startswith("-")
        code = item.lstrip("-")
        param = _lookup(state.registry, _types(state)[0], code)
        if param.type in ("composite", "special"):
            raise _Unknown(f"Sorting by {code!r} is not supported")
        keys.append(SortKey(param, descending))
    state.result["sort"] = (*state.result.get("sort", ()), *keys)


def _include(state: _State, name: str, value: str) -> None:
    base, _, modifier = name.partition(":")
    if modifier not in ("", "iterate", "recurse"):
        raise _Unknown(f"Unknown modifier on {base}")
    reverse = base == "_revinclude"
    include = _parse_include(state, name, value, iterate=bool(modifier), reverse=reverse)
    key = "revincludes" if reverse else "includes"
    state.result[key] = (*state.result.get(key, ()), include)


def _parse_include(state: _State, name: str, value: str, *, iterate: bool, reverse: bool) -> Include:
    if value == "*":
        return Include(state.resource_type or "Resource", None, None, iterate)
    parts = value.split(":")
    if len(parts) not in (2, 3) or not state.registry.definitions.is_resource_type(parts[0]):
        raise InvalidRequest(f"{name} is Type:parameter[:targetType] or *", location=(name,))
    if not reverse and not iterate and state.resource_type and parts[0] != state.resource_type:
        raise InvalidRequest(f"{name} must start with the searched type (or use :iterate)", location=(name,))
    if parts[1] == "*":
        return Include(parts[0], None, parts[2] if len(parts) == 3 else None, iterate)
    param = _lookup(state.registry, parts[0], parts[1])
    if param.type != "reference":
        raise InvalidRequest(f"{name}: {parts[1]!r} is not a reference parameter", location=(name,))
    target = parts[2] if len(parts) == 3 else None
    if target is not None and not state.registry.definitions.is_resource_type(target):
        raise InvalidRequest(f"{name}: unknown target type", location=(name,))
    return Include(parts[0], param, target, iterate)


def _choice(allowed: frozenset[str], key: str) -> _Handler:
    def handle(state: _State, name: str, value: str) -> None:
        if value not in allowed:
            raise InvalidRequest(f"{name} must be one of {', '.join(sorted(allowed))}", location=(name,))
        state.result[key] = value

    return handle


def _elements(state: _State, name: str, value: str) -> None:
    state.result["elements"] = tuple(e.strip() for e in value.split(",") if e.strip())


def _unsupported(state: _State, name: str, value: str) -> None:
    raise _Unknown(f"{name} is not supported")


_RESULT_PARAMS = {
    "_count": _count,
    "_offset": _offset,
    CURSOR_PARAM: _cursor,
    "_sort": _sort,
    "_include": _include,
    "_revinclude": _include,
    "_total": _choice(_TOTAL, "total"),
    "_summary": _choice(_SUMMARY, "summary"),
    "_elements": _elements,
    "_contained": _choice(frozenset({"true", "false", "both"}), "contained"),
    "_containedType": _unsupported,
    "_text": _unsupported,
    "_content": _unsupported,
    "_list": _unsupported,
    "_query": _unsupported,
    "_filter": _unsupported,
}
