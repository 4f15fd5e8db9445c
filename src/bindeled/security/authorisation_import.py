"""Parsing a snapshot of the authorisation register (Autorisationsregistret) for import.

bindeled checks health professionals' authorisations against an imported snapshot, not live. The
snapshot is a file an administrator posts to ``POST /fhir/$import-authorisations``, in one of two forms:

**CSV** (``text/csv``), UTF-8 (a byte-order mark is allowed), comma- or semicolon-separated, with a
header row naming the columns in any order (case-insensitive)::

    authorisation_id;name;education_code;status;valid_from;valid_to
    GP7K2;Gitte Demo Praktiserende;7170;active;2001-06-01;
    NS3B8;Nanna Demo Sygeplejerske;5166;revoked;2015-01-01;2025-12-31

**JSON** (``application/json``): a list of objects with the same keys, or ``{"authorisations": [...]}``.

Columns: ``authorisation_id`` (the Autorisations-ID, 1–20 letters and digits), ``name`` (the holder's
name), ``education_code`` (four digits: 7170 doctor, 5166 nurse, …), ``status`` (``active`` or
``restricted`` — under intensified supervision, still authorised — count; ``suspended``, ``revoked`` and
``expired`` do not), and optionally ``valid_from`` / ``valid_to`` (a date, or a date-time with a time
zone; ``valid_to`` is exclusive). One row per authorisation id and education code.

Any bad row refuses the whole file (400, the row and column in the location): an import never half-applies.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from ..errors import InvalidRequest
from .registers import Authorisation, Period

__all__ = ["COUNTING_STATUSES", "STATUSES", "AuthorisationRow", "parse_snapshot", "to_authorisation"]

STATUSES = frozenset({"active", "restricted", "suspended", "revoked", "expired"})
COUNTING_STATUSES = frozenset({"active", "restricted"})
"""Statuses under which the authorisation counts for access."""

_COLUMNS = ("authorisation_id", "name", "education_code", "status")
_OPTIONAL = ("valid_from", "valid_to")
_ID = re.compile(r"[0-9A-Za-z]{1,20}\Z")
_EDUCATION = re.compile(r"\d{4}\Z")
_NEVER = Period(datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class AuthorisationRow:
    """One row of a snapshot, checked."""

    authorisation_id: str
    name: str
    education_code: str
    status: str
    valid_from: datetime | None = None
    valid_to: datetime | None = None


def to_authorisation(row: AuthorisationRow) -> Authorisation:
    """The policy's record: a row whose status does not count is known but never valid."""
    if row.status not in COUNTING_STATUSES:
        return Authorisation(row.authorisation_id, row.education_code, _NEVER)
    return Authorisation(row.authorisation_id, row.education_code, Period(row.valid_from, row.valid_to))


def _bad(message: str, row: int, column: str | None = None) -> InvalidRequest:
    where = f"row {row}" + (f", column {column}" if column else "")
    return InvalidRequest(f"{message} ({where})", location=(where,), details_code="invalid_snapshot")


def _instant(value: str, row: int, column: str) -> datetime | None:
    if value == "":
        return None
    try:
        moment = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00+00:00")
    except ValueError:
        raise _bad("Not a date or a zoned date-time", row, column) from None
    if moment.tzinfo is None:
        raise _bad("A date-time needs a time zone", row, column)
    return moment


def _row(fields: Mapping[str, Any], number: int) -> AuthorisationRow:
    values: dict[str, str] = {}
    for column in (*_COLUMNS, *_OPTIONAL):
        value = fields.get(column)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise _bad("Values must be text", number, column)
        values[column] = value.strip()
    unknown = set(fields) - {*_COLUMNS, *_OPTIONAL}
    if unknown:
        raise _bad(f"Unknown column {sorted(unknown)[0]!r}", number)
    if not _ID.match(values["authorisation_id"]):
        raise _bad("The authorisation id must be 1-20 letters and digits", number, "authorisation_id")
    if not values["name"]:
        raise _bad("The name is missing", number, "name")
    if not _EDUCATION.match(values["education_code"]):
        raise _bad("The education code must be four digits", number, "education_code")
    status = values["status"].lower()
    if status not in STATUSES:
        raise _bad(f"The status must be one of {', '.join(sorted(STATUSES))}", number, "status")
    start = _instant(values["valid_from"], number, "valid_from")
    end = _instant(values["valid_to"], number, "valid_to")
    if start is not None and end is not None and end < start:
        raise _bad("valid_to lies before valid_from", number, "valid_to")
    return AuthorisationRow(values["authorisation_id"], values["name"], values["education_code"], status, start, end)


def _checked(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[AuthorisationRow]:
    found: list[AuthorisationRow] = []
    seen: set[tuple[str, str]] = set()
    for number, fields in rows:
        row = _row(fields, number)
        key = (row.authorisation_id, row.education_code)
        if key in seen:
            raise _bad("The authorisation id and education code appear twice", number, "authorisation_id")
        seen.add(key)
        found.append(row)
    return found


def _csv(text: str) -> list[AuthorisationRow]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise _bad("The file has no header row", 1)
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in _COLUMNS if c not in header]
        if missing:
            raise _bad(f"The header lacks the column {missing[0]!r}", 1)
        if len(set(header)) != len(header):
            raise _bad("The header names a column twice", 1)
        rows: list[tuple[int, Mapping[str, Any]]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise _bad(f"Expected {len(header)} cells, found {len(cells)}", number)
            rows.append((number, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise _bad(f"Malformed CSV: {exc}", reader.line_num) from None
    return _checked(rows)


def _json(data: bytes) -> list[AuthorisationRow]:
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError:
        raise _bad("The file is not valid JSON", 1) from None
    if isinstance(document, dict) and set(document) == {"authorisations"}:
        document = document["authorisations"]
    if not isinstance(document, list):
        raise _bad("Expected a list of authorisations", 1)
    rows: list[tuple[int, Mapping[str, Any]]] = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            raise _bad("Each authorisation must be an object", number)
        rows.append((number, item))
    return _checked(rows)


def parse_snapshot(data: bytes, media_type: str) -> list[AuthorisationRow]:
    """The rows of a snapshot file (``text/csv`` or ``application/json``); :class:`InvalidRequest` on any defect."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind in ("application/json", "application/fhir+json"):
        return _json(data)
    if kind != "text/csv":
        raise InvalidRequest(
            "An authorisation snapshot is text/csv or application/json", details_code="unsupported_media_type"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("The file is not UTF-8", 1) from None
    if "\x00" in text:
        raise _bad("The file contains NUL characters", 1)
    return _csv(text)
