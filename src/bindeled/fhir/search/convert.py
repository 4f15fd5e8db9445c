"""Turn the nodes an expression selected into index values, per search parameter type.

The FHIR search page says, per parameter type, which data types it indexes and how (a token
over a CodeableConcept is each of its codings, a date over a Period is the range it spans, …).
When the node's type is not known (the FHIRPath fallback) it is recognised by its shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from ._paths import Node
from .normalize import MAX_DATE, MIN_DATE, date_range, fold
from .values import (
    DateValue,
    IndexValue,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
)

__all__ = ["CONVERTERS", "parse_reference", "to_values"]

_CONTACT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
_QUANTITY_TYPES = frozenset({"Quantity", "Age", "Duration", "Count", "Distance", "SimpleQuantity", "MoneyQuantity"})


def _shape(value: Any) -> str | None:
    """Guess a FHIR type from a JSON value (for nodes from the FHIRPath fallback)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal, float)):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if not isinstance(value, dict):
        return None
    keys = value.keys()
    for key, kind in (
        ("coding", "CodeableConcept"),
        ("reference", "Reference"),
        ("family", "HumanName"),
        ("given", "HumanName"),
        ("line", "Address"),
        ("city", "Address"),
        ("start", "Period"),
        ("end", "Period"),
        ("event", "Timing"),
        ("repeat", "Timing"),
        ("low", "Range"),
        ("high", "Range"),
        ("currency", "Money"),
    ):
        if key in keys:
            return kind
    if "value" in keys and value.get("system") in _CONTACT_SYSTEMS:
        return "ContactPoint"
    if "value" in keys and isinstance(value["value"], (int, Decimal)):
        return "Quantity"
    if "code" in keys:
        return "Coding"
    if "value" in keys or "system" in keys:
        return "Identifier"
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


# -- token ----------------------------------------------------------------------------------------


def _coding(c: dict[str, Any], text: str | None = None) -> TokenValue:
    display = text or c.get("display")
    return TokenValue(c.get("system"), c.get("code"), fold(display) if isinstance(display, str) else None)


def _token(kind: str | None, v: Any) -> Iterator[TokenValue]:
    if kind == "boolean" or isinstance(v, bool):
        yield TokenValue(None, "true" if v else "false")
    elif isinstance(v, str):
        yield TokenValue(None, v)
    elif not isinstance(v, dict):
        return
    elif kind == "CodeableConcept":
        text = v.get("text")
        codings = [c for c in v.get("coding", ()) if isinstance(c, dict)]
        for c in codings:
            yield _coding(c, text)
        if not codings and isinstance(text, str):
            yield TokenValue(None, None, fold(text))
    elif kind == "Coding":
        yield _coding(v)
    elif kind == "Identifier":
        yield from _identifier(v)
    elif kind == "ContactPoint" and isinstance(v.get("value"), str):
        yield TokenValue(None, v["value"])


def _identifier(v: dict[str, Any]) -> Iterator[TokenValue]:
    found = v.get("type")
    kind: dict[str, Any] = found if isinstance(found, dict) else {}
    text = kind.get("text")
    base = TokenValue(v.get("system"), v.get("value"), fold(text) if isinstance(text, str) else None)
    yield base
    for c in kind.get("coding", ()):
        yield TokenValue(base.system, base.code, base.text, c.get("system"), c.get("code"))


# -- string ---------------------------------------------------------------------------------------

_NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
_ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")


def _string(kind: str | None, v: Any) -> Iterator[StringValue]:
    if isinstance(v, str):
        texts: Iterator[str] = iter((v,))
    elif not isinstance(v, dict):
        return
    elif kind == "HumanName":
        texts = (s for part in _NAME_PARTS for s in _strings(v.get(part)))
    elif kind == "Address":
        texts = (s for part in _ADDRESS_PARTS for s in _strings(v.get(part)))
    else:
        texts = (s for s in v.values() if isinstance(s, str))
    for text in texts:
        yield StringValue(fold(text), text)


# -- reference ------------------------------------------------------------------------------------


def parse_reference(ref: str) -> ReferenceValue | None:
    """A reference string as an index value: ``Type/id`` (relative), or an absolute URL / canonical."""
    if ref.startswith("#"):
        return None
    if "://" in ref or ref.startswith(("urn:", "#")):
        return ReferenceValue(url=ref.split("|", 1)[0])
    parts = ref.split("|", 1)[0].split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) == 2 and parts[0][:1].isupper() and parts[1]:
        return ReferenceValue(parts[0], parts[1])
    return ReferenceValue(url=ref)


def _reference(kind: str | None, v: Any) -> Iterator[ReferenceValue]:
    if isinstance(v, str):
        found = parse_reference(v)
        if found is not None:
            yield found
        return
    if not isinstance(v, dict):
        return
    ref = v.get("reference")
    if isinstance(ref, str):
        found = parse_reference(ref)
        if found is not None:
            yield found
    ident = v.get("identifier")
    if isinstance(ident, dict) and (ident.get("system") or ident.get("value")):
        kind_of = v.get("type") if isinstance(v.get("type"), str) else None
        yield ReferenceValue(kind_of, None, None, ident.get("system"), ident.get("value"))


# -- date -----------------------------------------------------------------------------------------


def _range_of(text: Any) -> tuple[str, str] | None:
    if not isinstance(text, str):
        return None
    try:
        return date_range(text)
    except ValueError:
        return None


def _date(kind: str | None, v: Any) -> Iterator[DateValue]:
    if isinstance(v, str):
        found = _range_of(v)
        if found:
            yield DateValue(*found)
    elif isinstance(v, dict) and kind == "Period":
        yield from _period(v)
    elif isinstance(v, dict) and kind == "Timing":
        events = [r for r in (_range_of(e) for e in v.get("event", ())) if r]
        if events:
            yield DateValue(min(r[0] for r in events), max(r[1] for r in events))
        bounds = (v.get("repeat") or {}).get("boundsPeriod")
        if isinstance(bounds, dict):
            yield from _period(bounds)


def _period(v: dict[str, Any]) -> Iterator[DateValue]:
    start, end = _range_of(v.get("start")), _range_of(v.get("end"))
    if start or end:
        yield DateValue(start[0] if start else MIN_DATE, end[1] if end else MAX_DATE)


# -- number and quantity --------------------------------------------------------------------------


def _decimal(v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float, str)):
        return None
    try:
        found = Decimal(v) if not isinstance(v, float) else Decimal(str(v))
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


def _number(kind: str | None, v: Any) -> Iterator[NumberValue]:
    if isinstance(v, dict) and kind == "Range":
        low, high = _decimal((v.get("low") or {}).get("value")), _decimal((v.get("high") or {}).get("value"))
        if low is not None or high is not None:
            yield NumberValue(low, high)
        return
    found = _decimal(v)
    if found is not None:
        yield NumberValue(found, found)


def _quantity(kind: str | None, v: Any) -> Iterator[QuantityValue]:
    if not isinstance(v, dict):
        return
    if kind == "Range":
        low, high = v.get("low") or {}, v.get("high") or {}
        lo, hi = _decimal(low.get("value")), _decimal(high.get("value"))
        unit = low or high
        if lo is not None or hi is not None:
            yield QuantityValue(lo, hi, unit.get("system"), unit.get("code"), unit.get("unit"))
    elif kind == "SampledData":
        yield from _quantity("Quantity", v.get("origin"))
    elif kind == "Money":
        amount = _decimal(v.get("value"))
        if amount is not None:
            yield QuantityValue(amount, amount, "urn:iso:std:iso:4217", v.get("currency"))
    else:
        amount = _decimal(v.get("value"))
        if amount is not None:
            yield QuantityValue(amount, amount, v.get("system"), v.get("code"), v.get("unit"))


# -- uri ------------------------------------------------------------------------------------------


def _uri(kind: str | None, v: Any) -> Iterator[UriValue]:
    if isinstance(v, str):
        yield UriValue(v.split("|", 1)[0] if kind == "canonical" else v)


Converter = Callable[[str | None, Any], Iterator[IndexValue]]

CONVERTERS: dict[str, Converter] = {
    "token": _token,
    "string": _string,
    "reference": _reference,
    "date": _date,
    "number": _number,
    "quantity": _quantity,
    "uri": _uri,
}


def _kind(node: Node) -> str | None:
    kind = node.type
    if kind is None or kind in ("Element", "BackboneElement"):
        kind = _shape(node.value)
    if kind in _QUANTITY_TYPES:
        return "Quantity"
    return kind


def to_values(param_type: str, nodes: list[Node]) -> list[IndexValue]:
    """The distinct index values of the nodes for a parameter type, in first-seen order."""
    convert = CONVERTERS.get(param_type)
    if convert is None:
        return []
    seen: dict[IndexValue, None] = {}
    for node in nodes:
        for value in convert(_kind(node), node.value):
            seen.setdefault(value, None)
    return list(seen)
