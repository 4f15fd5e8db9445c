"""The synthetic-message generator: every letter it writes passes the hub's profile and business rules."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import xml_to_resource
from bindeled.messaging.conformance import validate_message
from bindeled.messaging.hospital_notification import read_notification
from bindeled.messaging.hub.synthetic import (
    HN_EVENTS,
    Citizen,
    Party,
    care_communication,
    hospital_notification,
    message_stream,
    synthetic_citizen,
)
from bindeled.messaging.messages import CPR_SYSTEM, Message
from bindeled.messaging.profiles import ValidatorPool
from tests.messaging.conftest import CC_EXAMPLE

HOSPITAL = Party("265161000016000", "5790000209354", "Synthetic hospital unit")
MUNICIPALITY = Party("953741000016009", "5790001348120", "Synthetic municipality")
OTHER = Party("328051000016008", "5790000121441", "Synthetic municipality 2")
START = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))


def _errors(bundle: dict[str, object], pool: ValidatorPool) -> list[Issue]:
    return [i for i in validate_message(Message(bundle), pool) if i.is_error]  # type: ignore[arg-type]


@pytest.mark.parametrize("event", sorted(HN_EVENTS))
def test_each_hospital_notification_event_is_valid_and_reads_back(event: str, pool: ValidatorPool) -> None:
    rng = random.Random(event)
    citizen = synthetic_citizen(rng)
    bundle = hospital_notification(
        event,
        hospital=HOSPITAL,
        municipality=MUNICIPALITY,
        citizen=citizen,
        admitted=START,
        at=START + timedelta(days=2),
        rng=rng,
    )
    assert _errors(bundle, pool) == []
    note = read_notification(Message(bundle))
    assert note is not None and note.code == event


def test_synthetic_citizens_can_never_be_real() -> None:
    rng = random.Random(7)
    for _ in range(200):
        citizen = synthetic_citizen(rng)
        assert len(citizen.cpr) == 10 and citizen.cpr.isdigit()
        assert 61 <= int(citizen.cpr[:2]) <= 88


def test_patients_are_tagged_synthetic() -> None:
    bundle = hospital_notification(
        "STIN",
        hospital=HOSPITAL,
        municipality=MUNICIPALITY,
        citizen=synthetic_citizen(random.Random(1)),
        admitted=START,
    )
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["meta"]["tag"][0]["code"] == "SYNTHETIC"


def test_a_care_communication_is_valid_for_a_citizen_with_a_real_day_of_birth(
    pool: ValidatorPool, medcom_examples: Path, definitions: Definitions
) -> None:
    # MedCom's own test person from the official example (read at run time, not copied).
    example = xml_to_resource((medcom_examples / CC_EXAMPLE).read_bytes(), definitions)
    cpr = Message(example).cpr
    assert cpr is not None
    bundle = care_communication(
        sender=MUNICIPALITY,
        receiver=HOSPITAL,
        citizen=Citizen(cpr, "Test", "Person"),
        text="Hej",
        at=START,
        rng=random.Random(2),
    )
    assert _errors(bundle, pool) == []


def test_a_care_communication_about_a_synthetic_citizen_fails_only_dk_cores_cpr_check(pool: ValidatorPool) -> None:
    rng = random.Random(3)
    bundle = care_communication(
        sender=MUNICIPALITY, receiver=HOSPITAL, citizen=synthetic_citizen(rng), text="Hej", at=START, rng=rng
    )
    assert {(i.code, i.diagnostics.split(":")[1].strip()) for i in _errors(bundle, pool)} == {("invariant", "cpr")}


def test_a_stream_is_reproducible_valid_and_admits_before_it_discharges(pool: ValidatorPool) -> None:
    first = list(message_stream(12, [HOSPITAL], [MUNICIPALITY, OTHER], start=START, seed=5))
    again = list(message_stream(12, [HOSPITAL], [MUNICIPALITY, OTHER], start=START, seed=5))
    assert json.dumps(first) == json.dumps(again)
    assert len({b["id"] for b in first}) == 12
    seen: set[str] = set()
    for bundle in first:
        assert _errors(bundle, pool) == []
        message = Message(bundle)
        note = read_notification(message)
        assert note is not None and message.cpr is not None
        if note.code == "STIN":
            seen.add(message.cpr)
        else:
            assert message.cpr in seen
    assert any(CPR_SYSTEM in json.dumps(b) for b in first)


def test_unknown_events_are_refused() -> None:
    with pytest.raises(ValueError):
        hospital_notification(
            "XXXX",
            hospital=HOSPITAL,
            municipality=MUNICIPALITY,
            citizen=synthetic_citizen(random.Random(1)),
            admitted=START,
        )
