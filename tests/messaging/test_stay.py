"""The stay state machine: table-tested sequences and Hypothesis properties over event orders."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.messaging.hospital_notification import Action, Event, read_notification
from bindeled.messaging.messages import Message
from bindeled.messaging.stay import Stay, StayEvent, StayStatus, apply, event_from_notification

from ._mutate import Bundle

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def ev(event: Event, hours: float, letter: str, action: Action = Action.NEW, replaces: str | None = None) -> StayEvent:
    return StayEvent(event, action, T0 + timedelta(hours=hours), letter, replaces)


def run(*events: StayEvent) -> Stay:
    return reduce(apply, events, Stay())


S = StayStatus
E = Event


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ((), S.NONE),
        ((ev(E.STAA, 0, "a"),), S.ACUTE_AMBULANT),
        ((ev(E.STIN, 0, "a"),), S.ADMITTED),
        ((ev(E.STIN, 0, "a"), ev(E.STOR, 1, "b")), S.ON_LEAVE),
        ((ev(E.STIN, 0, "a"), ev(E.STOR, 1, "b"), ev(E.SLOR, 2, "c")), S.ADMITTED),
        ((ev(E.STIN, 0, "a"), ev(E.SLHJ, 5, "b")), S.DISCHARGED),
        # acute ambulant → admitted is a new STIN without SLHJ
        ((ev(E.STAA, 0, "a"), ev(E.STIN, 2, "b")), S.ADMITTED),
        # out of order: STAA, SLHJ, then the (earlier) STIN ⇒ still discharged
        ((ev(E.STAA, 0, "a"), ev(E.SLHJ, 5, "c"), ev(E.STIN, 2, "b")), S.DISCHARGED),
        # corrections move an event in time
        ((ev(E.STIN, 0, "a"), ev(E.SLHJ, 5, "b"), ev(E.SLHJ, 7, "c", Action.REVISE, "b")), S.DISCHARGED),
        ((ev(E.STIN, 3, "a"), ev(E.SLHJ, 5, "b"), ev(E.STIN, 6, "c", Action.REVISE, "a")), S.ADMITTED),
        # cancellations undo the event
        ((ev(E.STIN, 0, "a"), ev(E.STIN, 1, "b", Action.CANCEL, "a")), S.NONE),
        ((ev(E.STIN, 0, "a"), ev(E.SLHJ, 5, "b"), ev(E.SLHJ, 6, "c", Action.CANCEL, "b")), S.ADMITTED),
        ((ev(E.STIN, 0, "a"), ev(E.STOR, 1, "b"), ev(E.STOR, 2, "c", Action.CANCEL, "b")), S.ADMITTED),
        # a cancellation of something never received changes nothing
        ((ev(E.STIN, 0, "a"), ev(E.SLHJ, 6, "c", Action.CANCEL, "zz")), S.ADMITTED),
        # a correction of something never received counts as the event itself
        ((ev(E.STIN, 0, "a"), ev(E.SLHJ, 6, "c", Action.REVISE, "zz")), S.DISCHARGED),
        # death is final until it is cancelled
        ((ev(E.STIN, 0, "a"), ev(E.MORS, 4, "b"), ev(E.STIN, 9, "c")), S.DECEASED),
        ((ev(E.STIN, 0, "a"), ev(E.MORS, 4, "b"), ev(E.MORS, 5, "c", Action.CANCEL, "b")), S.ADMITTED),
        # redelivery of a letter changes nothing
        (
            (
                ev(E.STIN, 0, "a"),
                ev(E.SLHJ, 5, "b"),
                ev(E.SLHJ, 6, "c", Action.CANCEL, "b"),
                ev(E.SLHJ, 6, "c", Action.CANCEL, "b"),
            ),
            S.ADMITTED,
        ),
    ],
)
def test_sequences(events: tuple[StayEvent, ...], status: StayStatus) -> None:
    assert run(*events).status is status


def test_since_is_when_the_status_began() -> None:
    stay = run(ev(E.STIN, 0, "a"), ev(E.MORS, 4, "b"), ev(E.STIN, 9, "c"))
    assert stay.since == T0 + timedelta(hours=4)
    assert Stay().since is None


def test_cancel_without_reference_undoes_the_latest_of_its_kind() -> None:
    stay = run(ev(E.STIN, 0, "a"), ev(E.STOR, 1, "b"), ev(E.SLOR, 2, "c"), ev(E.STOR, 3, "d"))
    assert stay.status is S.ON_LEAVE
    assert apply(stay, ev(E.STOR, 4, "e", Action.CANCEL)).status is S.ADMITTED


# -- properties --------------------------------------------------------------------------------

kinds = st.sampled_from(list(Event))


@st.composite
def new_events(draw: st.DrawFn) -> list[StayEvent]:
    hours = draw(st.lists(st.integers(0, 500), min_size=1, max_size=8, unique=True))
    return [ev(draw(kinds), h, f"m{i}") for i, h in enumerate(hours)]


@given(new_events(), st.randoms())
def test_arrival_order_does_not_matter(events: list[StayEvent], rnd: random.Random) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert run(*shuffled).status is run(*events).status


@given(new_events(), st.data())
def test_cancelling_an_event_restores_the_stay_without_it(events: list[StayEvent], data: st.DataObject) -> None:
    victim = data.draw(st.sampled_from(events))
    stay = apply(run(*events), StayEvent(victim.event, Action.CANCEL, victim.at, "cancel", victim.message_id))
    without = run(*(e for e in events if e is not victim))
    assert stay.status is without.status
    assert set(stay.events) == set(without.events)


@given(new_events(), st.data(), st.integers(0, 500))
def test_a_correction_is_the_event_at_its_new_time(events: list[StayEvent], data: st.DataObject, hour: int) -> None:
    victim = data.draw(st.sampled_from(events))
    moved = T0 + timedelta(hours=hour) + timedelta(minutes=30)
    stay = apply(run(*events), StayEvent(victim.event, Action.REVISE, moved, "fix", victim.message_id))
    expected = run(*(e for e in events if e is not victim), StayEvent(victim.event, Action.NEW, moved, "fix"))
    assert stay.status is expected.status


@given(new_events())
def test_redelivery_is_idempotent(events: list[StayEvent]) -> None:
    once = run(*events)
    assert run(*events, *events) == once


# -- from a message ----------------------------------------------------------------------------


def test_event_from_a_hospital_notification(clean_hn: Bundle) -> None:
    note = read_notification(Message(clean_hn))
    assert note is not None
    event = event_from_notification(note)
    assert (event.event, event.action, event.replaces) == (Event.STIN, Action.NEW, None)
    assert event.at == datetime.fromisoformat("2022-12-07T12:00:00+02:00")
    assert apply(Stay(), event).status is S.ADMITTED


def test_unzoned_event_time_is_refused(clean_hn: Bundle) -> None:
    for entry in clean_hn["entry"]:
        if entry["resource"]["resourceType"] == "Encounter":
            entry["resource"]["period"]["start"] = "2022-12-07T12:00:00"
    note = read_notification(Message(clean_hn))
    assert note is not None
    with pytest.raises(ValueError, match="zoned"):
        event_from_notification(note)
