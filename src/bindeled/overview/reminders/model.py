"""The records of appointment reminders: a citizen's subscription and one reminder on its way out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from ...errors import InvalidRequest

__all__ = [
    "CHANNELS",
    "MAX_LEAD_MINUTES",
    "Channel",
    "OutgoingReminder",
    "ReminderRow",
    "Subscription",
    "check_address",
    "check_lead",
    "instant",
    "parse_instant",
]

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")
MAX_LEAD_MINUTES = 14 * 24 * 60
"""The longest lead time accepted: two weeks."""

_PHONE = re.compile(r"\+?[0-9]{8,15}\Z")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[A-Za-z]{2,63}\Z")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A citizen's opt-in: where reminders go and how long before each appointment."""

    patient_id: str
    channel: Channel
    address: str
    lead_minutes: int


@dataclass(frozen=True, slots=True)
class ReminderRow:
    """One outbox row as the citizen's view shows it."""

    id: str
    appointment_id: str
    appointment_version: int
    due: str
    state: str


@dataclass(frozen=True, slots=True)
class OutgoingReminder:
    """What a sender gets: the reminder's id (an idempotency key), the channel, the address and the text.

    The text holds time, place, organisation name and phone only — never the reason, a diagnosis, a
    CPR number or the citizen's name (DOMAIN 4.15).
    """

    id: str
    channel: Channel
    address: str
    text: str


def check_address(channel: str, address: str) -> str:
    """The normalised address for a channel; :class:`InvalidRequest` when it is not one."""
    if channel not in CHANNELS:
        raise InvalidRequest("channel must be sms or email", location=("Parameters.parameter('channel')",))
    value = address.strip()
    if channel == "sms":
        value = value.replace(" ", "")
        if not _PHONE.match(value):
            raise InvalidRequest("address is not a phone number", location=("Parameters.parameter('address')",))
    elif not _EMAIL.match(value):
        raise InvalidRequest("address is not an e-mail address", location=("Parameters.parameter('address')",))
    return value


def check_lead(minutes: int) -> int:
    if not 1 <= minutes <= MAX_LEAD_MINUTES:
        raise InvalidRequest(
            f"leadTimeMinutes must be between 1 and {MAX_LEAD_MINUTES}",
            location=("Parameters.parameter('leadTimeMinutes')",),
        )
    return minutes


def instant(moment: datetime) -> str:
    """The outbox's instant text: UTC, microseconds, fixed width (text order is time order)."""
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_instant(value: str | datetime) -> datetime:
    """An instant from the outbox (text) or from a backend that returns datetimes."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
