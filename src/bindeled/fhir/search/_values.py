"""Parsing one search value (after OR-splitting) into a typed query value, per parameter type."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ...errors import InvalidRequest, UnsupportedParameter
from ..definitions import Definitions
from .convert import parse_reference
from .hierarchy import hierarchy_for
from .normalize import date_range, fold, significant_range
from .registry import SearchParam
from .request import (
    CompositeQuery,
    DateQuery,
    MissingQuery,
    NumberQuery,
    QuantityQuery,
    QueryValue,
    ReferenceQuery,
    StringQuery,
    TokenQuery,
    UriQuery,
)
from .valuesets import expand

__all__ = ["PREFIXES", "own_reference", "parse_value", "split_escaped", "unescape"]

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def split_escaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` except where it is escaped with a backslash; escapes are kept."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            current.append(ch)
            current.append(next(chars, ""))
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        out.append(next(chars, "\\") if ch == "\\" else ch)
    return "".join(out)


def _bad(name: str, what: str) -> InvalidRequest:
    return InvalidRequest(f"Search parameter {name}: {what}", location=(name,))


def _prefixed(raw: str) -> tuple[str, str]:
    if len(raw) > 2 and raw[:2] in PREFIXES and not raw[2].isalpha():
        return raw[:2], raw[2:]
    return "eq", raw


def _token(raw: str, modifier: str | None, name: str, definitions: Definitions) -> TokenQuery:
    if modifier == "text":
        return TokenQuery(None, None, text=fold(unescape(raw)))
    if modifier in ("in", "not-in"):
        return TokenQuery(None, None, codes=expand(unescape(raw), definitions, location=name))
    parts = [unescape(p) for p in split_escaped(raw, "|")]
    if modifier in ("above", "below"):
        return _subsumption(parts, modifier, name, definitions)
    if modifier == "of-type":
        if len(parts) != 3 or not all(parts):
            raise _bad(name, ":of-type needs type-system|type-code|value")
        return TokenQuery(None, parts[2], type_system=parts[0], type_code=parts[1])
    if len(parts) == 1:
        return TokenQuery(None, parts[0])
    if len(parts) != 2 or parts == ["", ""]:
        raise _bad(name, "a token is [system]|[code]")
    return TokenQuery(parts[0], parts[1] or None)


def _subsumption(parts: list[str], modifier: str, name: str, definitions: Definitions) -> TokenQuery:
    """``:below`` (the code and what it subsumes) / ``:above`` (the code and what subsumes it)."""
    if len(parts) != 2 or not all(parts):
        raise _bad(name, f":{modifier} needs system|code")
    system, code = parts
    tree = hierarchy_for(definitions, system, location=name)
    if code not in tree.codes:
        raise _bad(name, "the code is not in the code system")
    related = tree.descendants(code) if modifier == "below" else tree.ancestors(code)
    return TokenQuery(system, code, codes=tuple((system, c) for c in [code, *sorted(related)]))


def own_reference(url: str, base_url: str | None) -> str | None:
    """``Type/id`` for an absolute URL on this server's base (``{base}/Type/id[/_history/v]``), else None."""
    if not base_url:
        return None
    base = base_url.rstrip("/") + "/"
    if not url.startswith(base):
        return None
    rest = url[len(base) :]
    ref = parse_reference(rest)
    return rest if ref is not None and ref.target_id is not None and ref.url is None else None


def _reference(raw: str, modifier: str | None, param: SearchParam, name: str, base_url: str | None) -> ReferenceQuery:
    value = unescape(raw)
    local = own_reference(value, base_url)
    if local is not None:
        value = local
    if modifier == "identifier":
        parts = [unescape(p) for p in split_escaped(raw, "|")]
        if len(parts) == 1:
            return ReferenceQuery(identifier_value=parts[0])
        if len(parts) != 2:
            raise _bad(name, ":identifier takes [system]|value")
        return ReferenceQuery(identifier_system=parts[0], identifier_value=parts[1] or None)
    if modifier is not None:
        ref = parse_reference(value)
        found_id = ref.target_id if ref and ref.target_type == modifier else value
        return ReferenceQuery(target_type=modifier, target_id=found_id)
    if "/" not in value and ":" not in value:
        return ReferenceQuery(target_id=value, target_types=param.targets)
    ref = parse_reference(value)
    if ref is None:
        raise _bad(name, "not a reference")
    return ReferenceQuery(ref.target_type, ref.target_id, ref.url)


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _bad(name, "not a number") from None
    if not value.is_finite():
        raise _bad(name, "not a number")
    return value


def _quantity(raw: str, name: str) -> QuantityQuery:
    parts = [unescape(p) for p in split_escaped(raw, "|")]
    if len(parts) not in (1, 3):
        raise _bad(name, "a quantity is [prefix]number[|system|code]")
    prefix, number = _prefixed(parts[0])
    value = _decimal(number, name)
    low, high = significant_range(value)
    if len(parts) == 1:
        return QuantityQuery(prefix, value, low, high)
    return QuantityQuery(prefix, value, low, high, parts[1] or None, parts[2] or None)


def _uri(raw: str, modifier: str | None) -> UriQuery:
    value = unescape(raw)
    if modifier != "above":
        return UriQuery(value)
    head, _, rest = value.partition("://")
    segments = rest.split("/") if rest else head.split("/")
    prefix = f"{head}://" if rest else ""
    candidates = tuple(prefix + "/".join(segments[:i]) for i in range(1, len(segments) + 1))
    return UriQuery(value, candidates)


def _composite(param: SearchParam, raw: str, name: str, definitions: Definitions) -> CompositeQuery:
    pieces = split_escaped(raw, "$")
    if len(pieces) != len(param.components):
        raise _bad(name, f"a composite value has {len(param.components)} parts separated by $")
    parts = []
    for component, piece in zip(param.components, pieces, strict=True):
        part = parse_value(component.param, None, piece, name, definitions)
        if isinstance(part, (CompositeQuery, MissingQuery)):
            raise _bad(name, "composite parts must be simple values")
        parts.append(part)
    return CompositeQuery(tuple(parts))


def parse_value(
    param: SearchParam,
    modifier: str | None,
    raw: str,
    name: str,
    definitions: Definitions,
    base_url: str | None = None,
) -> QueryValue:
    """One (already OR-split) value of ``param`` in its typed query form.

    ``base_url`` is this server's FHIR base: a reference value on it means the local ``Type/id``.
    """
    if raw == "":
        raise _bad(name, "an empty value")
    kind = param.type
    if kind == "token":
        return _token(raw, modifier, name, definitions)
    if kind == "string":
        text = unescape(raw)
        return StringQuery(fold(text), text)
    if kind == "reference":
        return _reference(raw, modifier, param, name, base_url)
    if kind == "date":
        prefix, text = _prefixed(raw)
        try:
            low, high = date_range(unescape(text))
        except ValueError:
            raise _bad(name, "not a FHIR date") from None
        return DateQuery(prefix, low, high)
    if kind == "number":
        prefix, text = _prefixed(raw)
        value = _decimal(unescape(text), name)
        return NumberQuery(prefix, value, *significant_range(value))
    if kind == "quantity":
        return _quantity(raw, name)
    if kind == "uri":
        return _uri(raw, modifier)
    if kind == "composite" and param.components:
        return _composite(param, raw, name, definitions)
    raise UnsupportedParameter(f"Search parameter {name}: {kind} parameters are not supported", location=(name,))
