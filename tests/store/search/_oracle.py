"""An obviously-correct in-memory search over a small corpus, for the property tests.

It reads values straight out of the JSON of the few elements the generated resources use and
applies the FHIR search page's rules in plain Python (Decimal, datetime ranges), one resource at a
time. Slow and narrow on purpose: it is the reference the SQL is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bindeled.fhir.search import date_range, fold, significant_range
from bindeled.fhir.search.normalize import MAX_DATE

Resource = dict[str, Any]
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"


def _prefixed(raw: str) -> tuple[str, str]:
    if raw[:2] in ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"):
        return raw[:2], raw[2:]
    return "eq", raw


def _date_matches(prefix: str, target: tuple[str, str], search: tuple[str, str]) -> bool:
    (tl, th), (sl, sh) = target, search
    return {
        "eq": sl <= tl and th <= sh,
        "ne": not (sl <= tl and th <= sh),
        "gt": th > sh,
        "lt": tl < sl,
        "ge": th > sl,
        "le": tl < sh,
        "sa": tl >= sh,
        "eb": th <= sl,
    }[prefix]


def _number_matches(prefix: str, target: Decimal, raw: str) -> bool:
    value = Decimal(raw)
    low, high = significant_range(value)
    return {
        "eq": low <= target < high,
        "ne": not (low <= target < high),
        "gt": target > value,
        "lt": target < value,
        "ge": target >= value,
        "le": target <= value,
        "sa": target > value,
        "eb": target < value,
    }[prefix]


def _names(r: Resource, parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for name in r.get("name", []):
        for part in parts:
            value = name.get(part)
            out += value if isinstance(value, list) else [value] if value else []
    return out


def _string(values: list[str], modifier: str | None, raw: str) -> bool:
    if modifier == "exact":
        return raw in values
    if modifier == "contains":
        return any(fold(raw) in fold(v) for v in values)
    return any(fold(v).startswith(fold(raw)) for v in values)


def _tokens(r: Resource, code: str) -> list[tuple[str | None, str]]:
    if code == "gender":
        return [(GENDER_SYSTEM, r["gender"])] if "gender" in r else []
    if code == "active":
        return [(None, "true" if r["active"] else "false")] if "active" in r else []
    if code == "identifier":
        return [(i.get("system"), i["value"]) for i in r.get("identifier", [])]
    return [(c.get("system"), c["code"]) for c in r.get("code", {}).get("coding", [])]


def split(raw: str, sep: str) -> list[str]:
    """Split on unescaped ``sep`` and drop the escapes (the corpus has no backslashes of its own)."""
    return [part.replace("\\", "") for part in re.split(r"(?<!\\)" + re.escape(sep), raw)]


def _token(pairs: list[tuple[str | None, str]], raw: str) -> bool:
    parts = split(raw, "|")
    if len(parts) == 1:
        return any(c == parts[0] for _, c in pairs)
    system, code = parts
    return any((s or "") == system and (not code or c == code) for s, c in pairs)


def _quantity(r: Resource, raw: str) -> bool:
    q = r.get("valueQuantity")
    if q is None:
        return False
    number, *unit = raw.split("|")
    prefix, number = _prefixed(number)
    if unit and (q.get("system") != unit[0] or q.get("code") != unit[1]):
        return False
    return _number_matches(prefix, q["value"], number)


def _date(value: str | None, raw: str) -> bool:
    if value is None:
        return False
    prefix, text = _prefixed(raw)
    return _date_matches(prefix, date_range(value), date_range(text))


def _reference(r: Resource, raw: str) -> bool:
    ref = r.get("subject", {}).get("reference")
    return ref is not None and (ref == raw or ref.split("/")[1] == raw)


class Oracle:
    """Evaluates the generated queries over the generated corpus."""

    def __init__(self, corpus: list[Resource]) -> None:
        self.by_key = {(r["resourceType"], r["id"]): r for r in corpus}

    def present(self, r: Resource, code: str) -> bool:
        probes: dict[str, Callable[[Resource], bool]] = {
            "birthdate": lambda r: "birthDate" in r,
            "gender": lambda r: "gender" in r,
            "value-quantity": lambda r: "valueQuantity" in r,
            "date": lambda r: "effectiveDateTime" in r,
            "subject": lambda r: "subject" in r,
            "identifier": lambda r: bool(r.get("identifier")),
        }
        return probes[code](r)

    def one(self, r: Resource, name: str, raw: str) -> bool:
        if name.startswith("subject:Patient."):
            ref = r.get("subject", {}).get("reference")
            target = self.by_key.get(("Patient", ref.split("/")[1])) if ref else None
            return target is not None and self.one(target, name.split(".", 1)[1], raw)
        code, _, modifier = name.partition(":")
        if modifier == "missing":
            return self.present(r, code) != (raw == "true")
        if code in ("name", "family", "given"):
            parts = {"name": ("family", "given"), "family": ("family",), "given": ("given",)}[code]
            return _string(_names(r, parts), modifier or None, raw)
        if code in ("gender", "active", "identifier", "code"):
            hit = _token(_tokens(r, code), raw)
            return not hit if modifier == "not" else hit
        if code == "birthdate":
            return _date(r.get("birthDate"), raw)
        if code == "date":
            return _date(r.get("effectiveDateTime"), raw)
        if code == "value-quantity":
            return _quantity(r, raw)
        if code == "subject":
            return _reference(r, raw)
        if code == "_has":
            inner = name.split(":", 3)[3]
            return any(
                o.get("subject", {}).get("reference") == f"Patient/{r['id']}" and self.one(o, inner, raw)
                for (t, _), o in self.by_key.items()
                if t == "Observation"
            )
        raise AssertionError(f"the oracle does not know {name}")

    def matches(self, r: Resource, params: list[tuple[str, str]]) -> bool:
        """AND over parameters, OR over each one's comma-separated values (no :not here: it ANDs)."""
        for name, value in params:
            alternatives = re.split(r"(?<!\\),", value)
            if name.endswith(":not"):
                if not all(self.one(r, name, v) for v in alternatives):
                    return False
            elif not any(self.one(r, name, v) for v in alternatives):
                return False
        return True

    def search(self, rtype: str, params: list[tuple[str, str]]) -> set[str]:
        return {rid for (t, rid), r in self.by_key.items() if t == rtype and self.matches(r, params)}


__all__ = ["MAX_DATE", "Oracle"]
