"""Which appointments the overview shows: overview appointments still standing and not yet over."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bindeled.overview.appointment_model import OPEN_END, OWNER_TYPE
from bindeled.overview.patient_overview import is_current_or_coming

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _appointment(start: str, end: str, status: str = "booked", **extra: Any) -> dict[str, Any]:
    extensions = [{"url": OWNER_TYPE, "valueCode": "regional"}]
    if extra.get("open_end"):
        extensions.append({"url": OPEN_END, "valueBoolean": True})
    return {"resourceType": "Appointment", "status": status, "start": start, "end": end, "extension": extensions}


@pytest.mark.parametrize(
    ("appointment", "shown"),
    [
        (_appointment("2026-11-23T10:00:00+01:00", "2026-11-23T11:00:00+01:00"), True),
        (_appointment("2026-11-22T08:00:00+01:00", "2026-11-22T14:00:00+01:00"), True),  # going on now
        (_appointment("2026-11-22T08:00:00+01:00", "2026-11-22T09:00:00+01:00"), False),  # over
        (_appointment("2026-11-22T08:00:00+00:00", "2026-11-22T08:00:00+00:00", open_end=True), True),
        (_appointment("2026-11-21T08:00:00+00:00", "2026-11-21T08:00:00+00:00", open_end=True), False),
        (_appointment("2026-11-23T10:00:00+01:00", "2026-11-23T11:00:00+01:00", "cancelled"), False),
        (_appointment("2026-11-23T10:00:00+01:00", "2026-11-23T11:00:00+01:00", "entered-in-error"), False),
        ({**_appointment("2026-11-23T10:00:00+01:00", "2026-11-23T11:00:00+01:00"), "extension": []}, False),
        (_appointment("2026-11-23", "2026-11-23"), False),  # no zone: not an instant
    ],
)
def test_current_or_coming(appointment: dict[str, Any], shown: bool) -> None:
    assert is_current_or_coming(appointment, NOW) is shown
