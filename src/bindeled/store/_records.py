"""What both backends do alike to a written version: stamp ``id`` and ``meta``, check preconditions.

``meta.lastUpdated`` has one canonical form, UTC with exactly six fractional digits and an explicit
``+00:00`` offset (``2026-11-22T03:24:00.123456+00:00``). The same text is what SQLite stores in its
``last_updated`` columns: fixed width, so text order is time order and ``_since``/``_at`` compare as
strings. PostgreSQL stores ``timestamptz``, which keeps microseconds too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ..errors import Conflict, InvalidRequest, PreconditionFailed
from ..fhir import jsonio
from .base import Clock

__all__ = [
    "UPDATE_METHODS",
    "as_utc",
    "check_if_match",
    "check_method",
    "check_type",
    "conflict_exists",
    "format_instant",
    "new_id",
    "now_utc",
    "parse_instant",
    "stamp",
]

UPDATE_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""The interactions that may write a non-deleted version (``DELETE`` writes tombstones)."""


def new_id() -> str:
    """A server-assigned id: a random UUID (version 4), as FHIR recommends for server ids."""
    return str(uuid.uuid4())


def now_utc(clock: Clock) -> datetime:
    """Read the injected clock; a naive datetime would be ambiguous, so it is refused."""
    moment = clock()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("The store's clock must return timezone-aware datetimes")
    return as_utc(moment)


def format_instant(moment: datetime) -> str:
    """The canonical instant text: UTC, microseconds, ``+00:00``."""
    return as_utc(moment).isoformat(timespec="microseconds")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive datetimes are refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Instants must be timezone-aware")
    return moment.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Read an instant written by :func:`format_instant` (timezone-aware, UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def check_type(resource_type: str, resource: jsonio.Resource) -> None:
    """The body must be of the type it is stored under; otherwise reads would return a stranger."""
    if resource.get("resourceType") != resource_type:
        raise InvalidRequest(f"The body is not a {resource_type} resource", location=("resourceType",))


def check_method(method: str) -> None:
    if method not in UPDATE_METHODS:
        raise ValueError(f"Unknown write method {method!r}; expected one of {sorted(UPDATE_METHODS)}")


def check_if_match(resource_type: str, current_version: int | None, if_match: int | None) -> None:
    """Raise :class:`PreconditionFailed` when the client expected another version.

    The version compared is the latest one, tombstones included; a resource that never existed has
    no version, so any ``if_match`` fails.
    """
    if if_match is None or if_match == current_version:
        return
    if current_version is None:
        raise PreconditionFailed(f"If-Match given, but the {resource_type} does not exist")
    raise PreconditionFailed(f"Version {if_match} of the {resource_type} is not the current version")


def conflict_exists(resource_type: str) -> Conflict:
    """The error for a create whose id is taken (also by a deleted resource)."""
    return Conflict(f"A {resource_type} with this id already exists")


def stamp(
    resource_type: str, id: str, version: int, last_updated: datetime, resource: jsonio.Resource
) -> tuple[jsonio.Resource, bytes]:
    """A copy of ``resource`` with ``id``, ``meta.versionId`` and ``meta.lastUpdated`` set, and its bytes.

    Only the top level and ``meta`` are copied: nothing deeper is modified, and the caller's dict is
    left as it was. ``resourceType``, ``id`` and ``meta`` lead the stored JSON, as in FHIR's examples.
    """
    old_meta: dict[str, Any] = resource.get("meta") or {}
    meta = {"versionId": str(version), "lastUpdated": format_instant(last_updated)}
    meta.update((k, v) for k, v in old_meta.items() if k not in meta)
    stamped: jsonio.Resource = {"resourceType": resource_type, "id": id, "meta": meta}
    stamped.update((k, v) for k, v in resource.items() if k not in stamped)
    return stamped, jsonio.encode(stamped)
