"""Content negotiation and HTTP preconditions for the FHIR REST API.

Decides which format a request body is in, which format the answer should take (``_format`` wins
over ``Accept``), what the client prefers (``Prefer: return=…``, ``handling=…``) and what its
preconditions (``If-Match``, ``If-None-Match``, ``If-Modified-Since``) say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal

from starlette.requests import Request

from ..errors import InvalidRequest, NotAcceptable, UnsupportedMediaType

__all__ = [
    "FHIR_JSON",
    "FHIR_XML",
    "Format",
    "Preferences",
    "body_format",
    "http_date",
    "instant_param",
    "parse_etag",
    "parse_http_date",
    "preferences",
    "response_format",
]

Format = Literal["json", "xml"]
FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"

_JSON_TYPES = {FHIR_JSON, "application/json", "application/json+fhir", "text/json"}
_XML_TYPES = {FHIR_XML, "application/xml", "application/xml+fhir", "text/xml"}
_FORMAT_ALIASES: dict[str, Format] = {"json": "json", "xml": "xml"}
_FORMAT_ALIASES.update(dict.fromkeys(_JSON_TYPES, "json"))
_FORMAT_ALIASES.update(dict.fromkeys(_XML_TYPES, "xml"))


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def body_format(request: Request) -> Format:
    """The format of the request body, from ``Content-Type``; 415 for anything but FHIR JSON or XML."""
    raw = request.headers.get("content-type")
    if raw is None:
        return "json"
    media = _media_type(raw)
    found = _FORMAT_ALIASES.get(media)
    if found is None:
        raise UnsupportedMediaType(f"Content-Type {media!r} is not supported; use {FHIR_JSON} or {FHIR_XML}")
    return found


def response_format(request: Request) -> Format:
    """``_format`` if given, else the best match in ``Accept``; JSON when the client does not care."""
    explicit = request.query_params.get("_format")
    if explicit:
        found = _FORMAT_ALIASES.get(explicit.strip().lower().replace(" ", "+"))
        if found is None:
            raise UnsupportedMediaType(f"_format {explicit!r} is not supported", location=("_format",))
        return found
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return "json"
    best: tuple[float, Format] | None = None
    for part in accept.split(","):
        media, _, params = part.partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        fmt: Format | None = _FORMAT_ALIASES.get(media)
        if fmt is None and media in ("*/*", "application/*", "text/html", "text/*"):
            fmt = "json"
        if fmt is not None and quality > 0 and (best is None or quality > best[0]):
            best = (quality, fmt)
    if best is None:
        raise NotAcceptable(f"None of the accepted types ({accept}) can be produced; use {FHIR_JSON} or {FHIR_XML}")
    return best[1]


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the ``Prefer`` header asks for."""

    return_: Literal["minimal", "representation", "OperationOutcome"] = "representation"
    strict: bool = False
    """``handling=strict``: unknown or unsupported search parameters are errors."""


def preferences(request: Request) -> Preferences:
    ret: Literal["minimal", "representation", "OperationOutcome"] = "representation"
    strict = False
    for header in request.headers.getlist("prefer"):
        for token in header.split(","):
            key, _, value = token.strip().partition("=")
            value = value.strip().strip('"')
            if key.strip().lower() == "return":
                if value == "minimal":
                    ret = "minimal"
                elif value.lower() == "operationoutcome":
                    ret = "OperationOutcome"
            elif key.strip().lower() == "handling":
                strict = value.lower() == "strict"
    return Preferences(ret, strict)


def parse_etag(value: str | None, header: str = "If-Match") -> int | None:
    """``W/"3"`` or ``"3"`` → 3; None when absent. A malformed value is a 400, not a silent ignore."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        raise InvalidRequest(f'{header} must be a version ETag like W/"3"', location=(header,))
    return int(text)


def parse_http_date(value: str | None, header: str = "If-Modified-Since") -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{header} is not an HTTP date", location=(header,)) from None


def instant_param(value: str | None, name: str) -> datetime | None:
    """A query parameter holding an instant (``_since``, ``_at``); it must carry a time zone."""
    if not value:
        return None
    text = value.strip().replace(" ", "+")  # a '+' in an unencoded query string arrives as a space
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name} must be an instant such as 2024-01-31T12:00:00Z", location=(name,)) from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"{name} must carry a time zone", location=(name,))
    return moment


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)
