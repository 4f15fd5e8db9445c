"""HL7 v2 DTM/TS values → FHIR ``dateTime`` strings and aware datetimes.

HL7 times without an offset are Danish wall-clock time (the senders are Danish laboratories), so they are
read in Europe/Copenhagen; FHIR needs an offset on any value that has a time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["LOCAL_ZONE", "parse_dtm", "to_fhir_datetime"]

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")
_DTM = re.compile(
    r"(?P<y>\d{4})(?:(?P<mo>\d{2})(?:(?P<d>\d{2})(?:(?P<h>\d{2})(?:(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,4}))?)?)?)?)?)?(?P<tz>[+-]\d{4})?\Z"
)


def parse_dtm(text: str) -> tuple[datetime, int] | None:
    """``(aware datetime, precision)`` for an HL7 DTM; precision counts the given parts (1 = year … 6 = seconds).

    Returns None when ``text`` is not a valid DTM (wrong shape or an impossible date).
    """
    match = _DTM.match(text.strip())
    if not match:
        return None
    parts = [match[name] for name in ("y", "mo", "d", "h", "mi", "s")]
    precision = sum(1 for part in parts if part is not None)
    numbers = [
        int(part) if part is not None else default for part, default in zip(parts, (0, 1, 1, 0, 0, 0), strict=True)
    ]
    micro = int((match["f"] or "0").ljust(6, "0")[:6])
    try:
        year, month, day, hour, minute, second = numbers
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=_zone(match["tz"]))
    except ValueError:
        return None
    return value, precision


def _zone(offset: str | None) -> timezone | ZoneInfo:
    if offset is None:
        return LOCAL_ZONE
    sign = -1 if offset[0] == "-" else 1
    # timezone() raises ValueError beyond ±24 h; the caller turns that into "not a DTM".
    return timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))


def to_fhir_datetime(value: datetime, precision: int) -> str:
    """The FHIR ``dateTime`` for a parsed DTM, keeping the precision it was sent with."""
    if precision <= 3:
        return value.strftime(("%Y", "%Y-%m", "%Y-%m-%d")[max(precision, 1) - 1])
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
