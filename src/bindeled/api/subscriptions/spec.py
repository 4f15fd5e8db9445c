"""What a Subscription asks for, checked once: criteria, channel, endpoint, headers, payload, end.

R4 criteria-based Subscriptions with two channels: ``rest-hook`` (an ``http``/``https`` endpoint, optional
``channel.header`` lines ``Name: value``, payload ``application/fhir+json``, ``application/fhir+xml`` or
none) and ``websocket`` (the client binds a socket to the Subscription). The criteria are a search
``Type?params`` that the search parser must understand completely (unknown parameters are refused,
never ignored). Problems raise :class:`~bindeled.errors.Unprocessable` naming the element.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from ...errors import BindeledError, Unprocessable
from ...fhir.definitions import Definitions
from ...fhir.jsonio import Resource
from ...fhir.search import parse_search

__all__ = ["CHANNELS", "PAYLOADS", "SubscriptionSpec", "read_spec"]

CHANNELS = frozenset({"rest-hook", "websocket"})
PAYLOADS = frozenset({"application/fhir+json", "application/fhir+xml", "application/json"})


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """One Subscription, parsed."""

    id: str
    status: str
    resource_type: str
    params: tuple[tuple[str, str], ...]
    channel: str
    endpoint: str
    payload: str
    """The payload mime type; '' for an empty notification."""
    headers: tuple[tuple[str, str], ...]
    end: datetime | None


def _invalid(message: str, element: str) -> Unprocessable:
    return Unprocessable(message, location=(f"Subscription.{element}",))


def read_spec(resource: Resource, definitions: Definitions) -> SubscriptionSpec:
    """Parse and check ``resource``; raises :class:`Unprocessable` for what cannot be honoured."""
    channel = resource.get("channel") or {}
    kind = str(channel.get("type", ""))
    if kind not in CHANNELS:
        raise _invalid("Only the rest-hook and websocket channels are supported", "channel.type")
    resource_type, params = _criteria(str(resource.get("criteria", "")), definitions)
    payload = str(channel.get("payload", ""))
    if payload and payload not in PAYLOADS:
        raise _invalid("The payload is application/fhir+json, application/fhir+xml or absent", "channel.payload")
    endpoint = str(channel.get("endpoint", ""))
    if kind == "rest-hook" and urlsplit(endpoint).scheme not in ("http", "https"):
        raise _invalid("A rest-hook needs an http or https endpoint", "channel.endpoint")
    return SubscriptionSpec(
        id=str(resource.get("id", "")),
        status=str(resource.get("status", "")),
        resource_type=resource_type,
        params=params,
        channel=kind,
        endpoint=endpoint,
        payload=payload,
        headers=tuple(_header(line, i) for i, line in enumerate(channel.get("header") or [])),
        end=_end(resource.get("end")),
    )


def _criteria(criteria: str, definitions: Definitions) -> tuple[str, tuple[tuple[str, str], ...]]:
    resource_type, _, query = criteria.partition("?")
    if not definitions.is_resource_type(resource_type):
        raise _invalid("The criteria must start with a resource type, e.g. DiagnosticReport?status=final", "criteria")
    params = tuple(parse_qsl(query, keep_blank_values=True))
    if any(name.startswith("_") and name not in ("_id", "_tag", "_profile", "_security") for name, _ in params):
        raise _invalid("Result parameters (_count, _sort, _include …) have no meaning in criteria", "criteria")
    try:
        parse_search(resource_type, list(params), definitions, strict=True)
    except BindeledError as error:
        raise _invalid(f"The criteria are not a valid search: {error.message}", "criteria") from None
    return resource_type, params


def _header(line: object, index: int) -> tuple[str, str]:
    name, colon, value = str(line).partition(":")
    if not colon or not name.strip() or any(ch in str(line) for ch in "\r\n"):
        raise _invalid("A header is one line 'Name: value'", f"channel.header[{index}]")
    return name.strip(), value.strip()


def _end(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid("end is not an instant", "end") from None
    if moment.tzinfo is None:
        raise _invalid("end needs a time zone", "end")
    return moment
