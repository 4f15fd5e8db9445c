"""HL7 v3 timestamps (``20201201090000+0100``) to FHIR instants (``2020-12-01T09:00:00+01:00``) and back.

The offset is kept as written, so an appointment at 09:00 Danish time stays 09:00+01:00 both ways.
An appointment time needs at least minutes and a zone; a birth time only needs a date.
"""

from __future__ import annotations

import re
from datetime import datetime

__all__ = ["birth_date", "cda_birth_time", "cda_instant", "fhir_instant"]

_TS = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})?(\.[0-9]{1,6})?([+-][0-9]{4}|Z)\Z")
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


def fhir_instant(value: str) -> str | None:
    """The FHIR instant of a CDA timestamp with minutes and zone; None when it has neither or is no date."""
    match = _TS.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[3:]}"
    text = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{fraction or ''}{zone}"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return text


def cda_instant(value: str) -> str:
    """The CDA timestamp of a FHIR instant (seconds always written, the offset as given)."""
    match = _INSTANT.match(value)
    if match is None:
        raise ValueError("not a FHIR instant")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    zone = "+0000" if zone == "Z" else zone.replace(":", "")
    return f"{year}{month}{day}{hour}{minute}{second}{fraction or ''}{zone}"


def birth_date(value: str) -> str | None:
    """The FHIR date of a CDA birth time (only its date part counts); None when it is no date."""
    match = _DATE.match(value)
    if match is None:
        return None
    text = "-".join(match.groups())
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return text


def cda_birth_time(value: str) -> str:
    """A FHIR date (``1948-12-25``) as a CDA birth time (``19481225``)."""
    return value.replace("-", "")
