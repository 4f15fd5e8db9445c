"""Row predicates per value type: does one index row (alias ``t``) match one query value?

These are the FHIR search page's matching rules, written once as SQL that both databases run the
same way (texts in code-point order, numbers as doubles, dates as fixed-width UTC texts).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from ...errors import UnsupportedParameter
from ...fhir.search.normalize import MAX_DATE, MIN_DATE
from ...fhir.search.request import (
    CompositeQuery,
    DateQuery,
    NumberQuery,
    QuantityQuery,
    QueryValue,
    ReferenceQuery,
    StringQuery,
    TokenQuery,
    UriQuery,
)
from ._params import Params
from .tables import COMPOSITE_COLUMNS

__all__ = ["escape_like", "match_value", "prefix_range"]

_TOP = "\U0010ffff"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_range(p: Params, column: str, prefix: str) -> str:
    """``column`` starts with ``prefix``, as an index-friendly range."""
    return f"({column} >= {p(prefix)} AND {column} < {p(prefix + _TOP)})"


def _token(p: Params, v: TokenQuery) -> str:
    if v.text is not None:
        return prefix_range(p, "t.text", v.text)
    if v.codes:
        return "(" + " OR ".join(_code_pair(p, s, c) for s, c in v.codes) + ")"
    parts: list[str] = []
    if v.type_system is not None:
        parts += [f"t.type_system = {p(v.type_system)}", f"t.type_code = {p(v.type_code)}"]
    if v.system == "":
        parts.append("t.system IS NULL")
    elif v.system is not None:
        parts.append(f"t.system = {p(v.system)}")
    if v.code is not None:
        parts.append(f"t.code = {p(v.code)}")
    return "(" + " AND ".join(parts) + ")"


def _code_pair(p: Params, system: str | None, code: str | None) -> str:
    parts = [f"t.system = {p(system)}" if system else "t.system IS NULL"]
    if code is not None:
        parts.append(f"t.code = {p(code)}")
    return "(" + " AND ".join(parts) + ")"


def _string(p: Params, v: StringQuery, modifier: str | None) -> str:
    if modifier == "exact":
        return f"t.exact = {p(v.exact)}"
    if modifier == "contains":
        return f"t.norm LIKE {p('%' + escape_like(v.norm) + '%')} ESCAPE '\\'"
    return prefix_range(p, "t.norm", v.norm)


def _reference(p: Params, v: ReferenceQuery) -> str:
    if v.identifier_value is not None or v.identifier_system is not None:
        parts = []
        if v.identifier_system is not None:
            parts.append(f"t.identifier_system = {p(v.identifier_system)}")
        if v.identifier_value is not None:
            parts.append(f"t.identifier_value = {p(v.identifier_value)}")
        return "(" + " AND ".join(parts) + ")"
    if v.url is not None:
        return f"t.url = {p(v.url)}"
    if v.target_type is not None:
        return f"(t.target_id = {p(v.target_id)} AND t.target_type = {p(v.target_type)})"
    return f"t.target_id = {p(v.target_id)}"


def _shift(text: str, delta: timedelta) -> str:
    try:
        moved = datetime.fromisoformat(text) + delta
    except OverflowError:
        return MIN_DATE if delta < timedelta(0) else MAX_DATE
    return moved.strftime("%Y-%m-%dT%H:%M:%S.%f").rjust(len(MIN_DATE), "0")


def _approximate(low: str, high: str, now: datetime) -> tuple[str, str]:
    """Widen a date range by 10 % of its distance from now (at least one day), per ``ap``."""
    reference = datetime.fromisoformat(low)
    gap = abs(now.replace(tzinfo=None) - reference) / 10
    margin = max(gap, timedelta(days=1))
    return _shift(low, -margin), _shift(high, margin)


def _date(p: Params, v: DateQuery, now: datetime) -> str:
    lo, hi = v.low, v.high
    ops = {
        "eq": lambda: f"(t.low >= {p(lo)} AND t.high <= {p(hi)})",
        "ne": lambda: f"(t.low < {p(lo)} OR t.high > {p(hi)})",
        "gt": lambda: f"t.high > {p(hi)}",
        "lt": lambda: f"t.low < {p(lo)}",
        "ge": lambda: f"t.high > {p(lo)}",
        "le": lambda: f"t.low < {p(hi)}",
        "sa": lambda: f"t.low >= {p(hi)}",
        "eb": lambda: f"t.high <= {p(lo)}",
    }
    if v.prefix == "ap":
        wide_lo, wide_hi = _approximate(lo, hi, now)
        return f"(t.low < {p(wide_hi)} AND t.high > {p(wide_lo)})"
    return ops[v.prefix]()


def _number(p: Params, prefix: str, value: Decimal, low: Decimal, high: Decimal) -> str:
    v = float(value)
    ops = {
        "eq": lambda: f"(t.low >= {p(float(low))} AND t.high < {p(float(high))})",
        "ne": lambda: f"(t.low < {p(float(low))} OR t.high >= {p(float(high))})",
        "gt": lambda: f"t.high > {p(v)}",
        "lt": lambda: f"t.low < {p(v)}",
        "ge": lambda: f"t.high >= {p(v)}",
        "le": lambda: f"t.low <= {p(v)}",
        "sa": lambda: f"t.low > {p(v)}",
        "eb": lambda: f"t.high < {p(v)}",
        "ap": lambda: f"(t.low <= {p(v + abs(v) * 0.1)} AND t.high >= {p(v - abs(v) * 0.1)})",
    }
    return ops[prefix]()


def _quantity(p: Params, v: QuantityQuery) -> str:
    parts = [_number(p, v.prefix, v.value, v.low, v.high)]
    if v.system is not None:
        parts.append(f"t.system = {p(v.system)}")
        if v.code is not None:
            parts.append(f"t.code = {p(v.code)}")
    elif v.code is not None:
        code = p(v.code)
        parts.append(f"(t.code = {code} OR t.unit = {code})")
    return "(" + " AND ".join(parts) + ")"


def _uri(p: Params, v: UriQuery, modifier: str | None) -> str:
    if modifier == "below":
        return prefix_range(p, "t.value", v.value)
    if modifier == "above":
        return f"t.value IN ({p.many(v.candidates)})"
    return f"t.value = {p(v.value)}"


def match_value(p: Params, value: QueryValue, modifier: str | None, now: datetime, alias: str = "t") -> str:
    """The predicate on the index row ``alias`` for one query value."""
    if isinstance(value, CompositeQuery):
        return "(" + " AND ".join(_component(p, part, i, now, alias) for i, part in enumerate(value.parts, 1)) + ")"
    return _ALIAS.sub(alias + ".", _match(p, value, modifier, now))


_ALIAS = re.compile(r"\bt\.")
_COLUMN = re.compile(r"\bt\.(\w+)")
_QUERY_KIND = {
    TokenQuery: "token",
    StringQuery: "string",
    ReferenceQuery: "reference",
    DateQuery: "date",
    NumberQuery: "number",
    QuantityQuery: "quantity",
    UriQuery: "uri",
}


def _component(p: Params, part: QueryValue, position: int, now: datetime, alias: str) -> str:
    """A component's predicate, moved onto its numbered columns of ``search_composite``."""
    columns = COMPOSITE_COLUMNS[_QUERY_KIND[type(part)]]

    def rename(m: re.Match[str]) -> str:
        stem = columns.get(m.group(1))
        if stem is None:
            raise UnsupportedParameter("This composite part cannot be searched", location=("composite",))
        return f"{alias}.{stem}{position}"

    return _COLUMN.sub(rename, _match(p, part, None, now))


def _match(p: Params, value: QueryValue, modifier: str | None, now: datetime) -> str:
    if isinstance(value, TokenQuery):
        return _token(p, value)
    if isinstance(value, StringQuery):
        return _string(p, value, modifier)
    if isinstance(value, ReferenceQuery):
        return _reference(p, value)
    if isinstance(value, DateQuery):
        return _date(p, value, now)
    if isinstance(value, NumberQuery):
        return _number(p, value.prefix, value.value, value.low, value.high)
    if isinstance(value, QuantityQuery):
        return _quantity(p, value)
    if isinstance(value, UriQuery):
        return _uri(p, value, modifier)
    raise TypeError(f"No SQL for {type(value).__name__}")
