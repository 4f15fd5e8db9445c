"""Which version of a result is current: preliminary → final → corrected, per (laboratory, sample, analysis).

Every version is kept (DOMAIN §6.1); this module only decides what a new arrival does to the *current*
view. Versions are ordered by status rank first and message time second, with the message control id as
the last tie-breaker, so the outcome does not depend on the order in which messages arrive: a late,
older version is stored as history and never overwrites a newer current one. A message whose control id
was already processed is a duplicate and changes nothing (idempotent redelivery).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

__all__ = ["STATUS_RANK", "Outcome", "Version", "decide", "rank", "sort_key"]

STATUS_RANK = {
    "registered": 0,
    "partial": 1,
    "preliminary": 1,
    "final": 2,
    "amended": 3,
    "corrected": 3,
    "appended": 3,
    "cancelled": 3,
    "entered-in-error": 3,
}
"""DiagnosticReport.status → position in the preliminary → final → corrected order."""


class Outcome(Enum):
    """What storing an incoming version did."""

    CURRENT = "current"
    """It is now the current version (the first one, or it supersedes the previous current one)."""
    HISTORY = "history"
    """Kept as a version, but an existing version outranks it (a late or lower-status arrival)."""
    DUPLICATE = "duplicate"
    """The same message (control id) was processed before; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Version:
    """The ordering facts of one stored or incoming version."""

    status: str
    message_time: datetime
    control_id: str


def rank(status: str) -> int:
    """Status rank; unknown statuses rank lowest so that they never displace a known one."""
    return STATUS_RANK.get(status, -1)


def sort_key(version: Version) -> tuple[int, datetime, str]:
    """Total order of versions: status rank, then message time, then control id."""
    return (rank(version.status), version.message_time, version.control_id)


def decide(current: Version | None, incoming: Version, seen_before: bool = False) -> Outcome:
    """The outcome of ``incoming`` given the ``current`` version of its key and whether its id was seen."""
    if seen_before or (current is not None and current.control_id == incoming.control_id):
        return Outcome.DUPLICATE
    if current is None or sort_key(incoming) > sort_key(current):
        return Outcome.CURRENT
    return Outcome.HISTORY
