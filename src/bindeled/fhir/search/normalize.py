"""Normalising values for search: string folding, date-precision ranges, significant-figure ranges.

**String folding.** FHIR string search is case- and accent-insensitive. :func:`fold` applies, in
order: compatibility decomposition (NFKD), Unicode case folding (``SØREN`` → ``søren``, ``ß`` →
``ss``), NFKD again with every combining mark removed (``é`` → ``e``, ``å`` → ``a``, ``ä`` → ``a``), and a small
table for letters that Unicode does not decompose: ``ø`` → ``o``, ``æ`` → ``ae``, ``œ`` → ``oe``,
``ð``/``đ`` → ``d``, ``þ`` → ``th``, ``ł`` → ``l``, ``ı`` → ``i``. Runs of white space become one
space. So ``Søren``, ``soren`` and ``SØREN`` all fold to ``soren``, ``Ærø`` to ``aero`` and
``Åse`` to ``ase``. The Danish transliterations ``oe``/``aa`` are *not* equated with ``ø``/``å``:
``Soeren`` stays ``soeren`` (a different spelling, as in the CPR register).

**Dates.** A date with less than full precision stands for the whole interval it names
(``2020`` is the year 2020), turned into the half-open UTC range ``[low, high)``. Values without a
time zone (dates, and search values with a time but no zone) are read in :data:`LOCAL_TZ`, the
server's zone (Danish time), as the FHIR search page recommends.

**Numbers.** A decimal stands for the range of its significant figures: ``100`` is
``[99.5, 100.5)``, ``1e2`` is ``[50, 150)``, ``1.50`` is ``[1.495, 1.505)``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "LOCAL_TZ",
    "MAX_DATE",
    "MIN_DATE",
    "date_range",
    "fold",
    "format_instant",
    "significant_range",
]

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
MIN_DATE = "0001-01-01T00:00:00.000000"
MAX_DATE = "9999-12-31T23:59:59.999999"

_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "đ": "d", "þ": "th", "ł": "l", "ı": "i"})
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)  # pure, and the same displays, names and codes recur across a bulk load
def fold(text: str) -> str:
    """The case- and accent-insensitive form of a string (the rule is in the module docstring)."""
    # Case folding and compatibility decomposition each can undo the other (``ᴬ`` decomposes to
    # ``A``; ``ǅ`` folds to a letter that decomposes), so decompose, fold, and decompose again.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE.sub(" ", stripped.translate(_LETTERS)).strip()


_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def format_instant(moment: datetime) -> str:
    """A timezone-aware moment as the fixed-width UTC text used in the date index."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rjust(len(MIN_DATE), "0")


def _zone(tz: str | None) -> tzinfo:
    if tz is None:
        return LOCAL_TZ
    if tz == "Z":
        return UTC
    sign = -1 if tz[0] == "-" else 1
    return timezone(timedelta(minutes=sign * (int(tz[1:3]) * 60 + int(tz[4:6]))))


def _start_and_step(m: re.Match[str]) -> tuple[datetime, str, int]:
    year = int(m["y"])
    zone = _zone(m["tz"])
    if m["m"] is None:
        return datetime(year, 1, 1, tzinfo=zone), "year", 1
    month = int(m["m"])
    if m["d"] is None:
        return datetime(year, month, 1, tzinfo=zone), "month", 1
    day = int(m["d"])
    if m["H"] is None:
        return datetime(year, month, day, tzinfo=zone), "day", 1
    hour, minute = int(m["H"]), int(m["M"])
    if m["S"] is None:
        return datetime(year, month, day, hour, minute, tzinfo=zone), "minute", 1
    frac = m["f"] or ""
    micro = int((frac + "000000")[:6])
    start = datetime(year, month, day, hour, minute, int(m["S"]), micro, tzinfo=zone)
    return start, "micro", 10 ** max(0, 6 - len(frac))


def _end(start: datetime, unit: str, step: int) -> datetime:
    if unit == "year":
        return start.replace(year=start.year + 1)
    if unit == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "minute":
        return start + timedelta(minutes=1)
    return start + timedelta(microseconds=step)


@lru_cache(maxsize=65536)  # pure; dates recur (appointment slots, birth dates), strftime is costly
def date_range(text: str) -> tuple[str, str]:
    """The half-open UTC range ``[low, high)`` a FHIR date / dateTime / instant text covers.

    Raises :class:`ValueError` for text that is not a FHIR date.
    """
    m = _DATE.fullmatch(text.strip())
    if m is None:
        raise ValueError("not a FHIR date")
    start, unit, step = _start_and_step(m)
    low = _clamped(start, MIN_DATE)
    try:
        high = format_instant(_end(start, unit, step))
    except (OverflowError, ValueError):
        high = MAX_DATE
    return low, high


def _clamped(moment: datetime, fallback: str) -> str:
    try:
        return format_instant(moment)
    except (OverflowError, ValueError):
        return fallback


def significant_range(value: Decimal) -> tuple[Decimal, Decimal]:
    """The half-open range ``[low, high)`` of the significant figures of ``value``."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError("not a finite number")
    half = Decimal(5).scaleb(exponent - 1)
    return value - half, value + half
