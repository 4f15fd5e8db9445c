"""The current-stay Encounter's shape, from the stay state machine (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bindeled.messaging.hospital_notification import Action, Event
from bindeled.messaging.hub.stay_effects import CURRENT_STAY_TAG, DECEASED_URL, encounter_for
from bindeled.messaging.stay import Stay, StayEvent, apply

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
IMP = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}


def _stay(*events: tuple[Event, Action, int, str]) -> Stay:
    stay = Stay()
    for event, action, hours, letter in events:
        stay = apply(stay, StayEvent(event, action, T0 + timedelta(hours=hours), letter))
    return stay


def test_no_stay_no_encounter() -> None:
    assert encounter_for(Stay(), {}, "p", "e", []) is None


def test_a_readmission_starts_a_new_period() -> None:
    stay = _stay(
        (Event.STIN, Action.NEW, 0, "a"), (Event.SLHJ, Action.NEW, 24, "b"), (Event.STAA, Action.NEW, 100, "c")
    )
    details = {"c": {"class": {**IMP, "code": "EMER"}, "provider": "123456789012345"}}
    encounter = encounter_for(stay, details, "p", "e", [{"system": "x", "code": "SYNTHETIC"}])
    assert encounter is not None
    assert encounter["status"] == "in-progress"
    assert encounter["period"] == {"start": (T0 + timedelta(hours=100)).isoformat()}
    assert encounter["class"]["code"] == "EMER"
    assert encounter["meta"]["tag"] == [CURRENT_STAY_TAG, {"system": "x", "code": "SYNTHETIC"}]
    assert encounter["serviceProvider"] == {
        "identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": "123456789012345"}
    }


def test_death_is_final_and_marked() -> None:
    stay = _stay((Event.STIN, Action.NEW, 0, "a"), (Event.MORS, Action.NEW, 5, "b"), (Event.SLOR, Action.NEW, 9, "c"))
    details = {"b": {"class": IMP, "provider": "123456789012345"}}
    encounter = encounter_for(stay, details, "p", "e", [], frozenset({"123456789012345"}))
    assert encounter is not None
    assert encounter["status"] == "finished"
    assert encounter["period"]["end"] == (T0 + timedelta(hours=5)).isoformat()
    assert encounter["extension"] == [{"url": DECEASED_URL, "valueBoolean": True}]
    assert encounter["serviceProvider"] == {"reference": "Organization/sor-123456789012345"}
