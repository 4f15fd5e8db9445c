"""Checks for the JSON form of every FHIR R4 primitive type.

Each checker takes the JSON value and returns ``None`` when it is acceptable, or a short message
(never containing the value itself, which may be personal data). The lexical rules follow the
regular expressions of the R4 specification (datatypes.html); dates and times are additionally
checked for real calendar validity (no 30 February), which the regexes alone cannot express.
The R4 base64Binary regex omits ``/``, which is a known error in the R4 text, so base64 is checked
against RFC 4648 instead.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["PRIMITIVE_CHECKS", "PrimitiveCheck", "check_primitive"]

PrimitiveCheck = Callable[[Any], str | None]

_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_MAX_STRING = 1024 * 1024

_YEAR = r"(?P<y>[0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(?P<m>0[1-9]|1[0-2])"
_DAY = r"(?P<d>0[1-9]|[12][0-9]|3[01])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?"
_ZONE = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"

_DATE_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
_DATETIME_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?")
_INSTANT_RE = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}")
_TIME_RE = re.compile(_TIME)
_CODE_RE = re.compile(r"[^\s]+(\s[^\s]+)*")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_OID_RE = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_URI_RE = re.compile(r"\S+")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_WS_RE = re.compile(r"\s+")


def _calendar_ok(match: re.Match[str]) -> bool:
    day = match.group("d")
    if day is None:
        return True
    month = int(match.group("m"))
    if month != 2:
        return int(day) <= _MONTH_DAYS[month]
    return int(day) <= (29 if calendar.isleap(int(match.group("y"))) else 28)


def _string_kind(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a JSON string"
    if not value:
        return "must not be empty"
    return None


def _regex_check(pattern: re.Pattern[str], what: str, *, dated: bool = False) -> PrimitiveCheck:
    def check(value: Any) -> str | None:
        problem = _string_kind(value)
        if problem:
            return problem
        match = pattern.fullmatch(value)
        if match is None:
            return f"is not a valid {what}"
        if dated and not _calendar_ok(match):
            return f"is not a real calendar {what}"
        return None

    return check


def _check_boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be a JSON boolean (true or false)"


def _int_check(low: int, what: str) -> PrimitiveCheck:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a JSON integer number"
        if not low <= value <= _INT_MAX:
            return f"is out of range for {what}"
        return None

    return check


def _check_decimal(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return "must be a JSON number"
    if isinstance(value, Decimal) and not value.is_finite():
        return "must be a finite number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def _check_string(value: Any) -> str | None:
    problem = _string_kind(value)
    if problem:
        return problem
    if len(value) > _MAX_STRING:
        return "is longer than 1 MB"
    return None


def _check_markdown(value: Any) -> str | None:
    return _check_string(value)


def _check_base64(value: Any) -> str | None:
    problem = _string_kind(value)
    if problem:
        return problem
    compact = _WS_RE.sub("", value)
    if len(compact) % 4 or not _BASE64_RE.fullmatch(compact):
        return "is not valid base64"
    return None


def _check_xhtml(value: Any) -> str | None:
    return _string_kind(value)


PRIMITIVE_CHECKS: dict[str, PrimitiveCheck] = {
    "boolean": _check_boolean,
    "integer": _int_check(_INT_MIN, "integer"),
    "integer64": _int_check(-(2**63), "integer64"),
    "positiveInt": _int_check(1, "positiveInt"),
    "unsignedInt": _int_check(0, "unsignedInt"),
    "decimal": _check_decimal,
    "string": _check_string,
    "markdown": _check_markdown,
    "uri": _regex_check(_URI_RE, "uri"),
    "url": _regex_check(_URI_RE, "url"),
    "canonical": _regex_check(_URI_RE, "canonical"),
    "code": _regex_check(_CODE_RE, "code"),
    "id": _regex_check(_ID_RE, "id"),
    "oid": _regex_check(_OID_RE, "oid"),
    "uuid": _regex_check(_UUID_RE, "uuid"),
    "base64Binary": _check_base64,
    "date": _regex_check(_DATE_RE, "date", dated=True),
    "dateTime": _regex_check(_DATETIME_RE, "dateTime", dated=True),
    "instant": _regex_check(_INSTANT_RE, "instant", dated=True),
    "time": _regex_check(_TIME_RE, "time"),
    "xhtml": _check_xhtml,
}
"""One checker per R4 primitive type name."""


def check_primitive(type_code: str, value: Any) -> str | None:
    """Check one JSON value against a primitive type; ``None`` if fine, else why not."""
    checker = PRIMITIVE_CHECKS.get(type_code)
    if checker is None:
        raise KeyError(type_code)
    return checker(value)
