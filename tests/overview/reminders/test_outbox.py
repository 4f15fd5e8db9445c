"""The reminder outbox on both backends: subscribe, schedule, change, cancel, restart, two workers.

The worker is driven in the foreground with a clock the tests move; the sender records what it got.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.overview.reminders import ReminderWorker, Subscription, reminders_of, subscribe, unsubscribe
from bindeled.overview.reminders.outbox import claim
from bindeled.store.base import Store
from bindeled.store.repository import Repository
from tests.overview.reminders.conftest import CPR, Clock, Recorder, appointment, citizen, open_indexed, unit

pytestmark = pytest.mark.anyio

DAY = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def _subscribed(repo: Repository, lead_minutes: int = 1440) -> tuple[str, str]:
    patient, organisation = await citizen(repo), await unit(repo)
    await subscribe(repo, Subscription(patient, "sms", "+4512345678", lead_minutes), "citizen:test", _now())
    return patient, organisation


async def _states(store: Store, patient: str) -> list[tuple[int, str]]:
    return [(r.appointment_version, r.state) for r in await reminders_of(store, patient)]


async def test_a_reminder_goes_out_once_lead_time_before_the_start(
    repo: Repository, worker: ReminderWorker, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    start = _now() + 3 * DAY
    booked = await repo.update("Appointment", (a := appointment(patient, organisation, start))["id"], a)
    assert await worker.step() == 0  # scheduled, not yet due
    rows = await reminders_of(repo.store, patient)
    assert [(r.appointment_id, r.state) for r in rows] == [(booked.stored.id, "pending")]
    assert datetime.fromisoformat(rows[0].due) == start - DAY

    clock.advance(2 * DAY + timedelta(minutes=1))
    assert await worker.step() == 1
    assert await worker.step() == 0
    assert len(recorder.sent) == 1
    sent = recorder.sent[0]
    assert (sent.channel, sent.address) == ("sms", "+4512345678")
    assert "Regionshospitalet" in sent.text and "66113322" in sent.text
    for secret in (CPR, "Carl", "Demo Borger", "hjertemedicin"):
        assert secret not in sent.text
    assert await _states(repo.store, patient) == [(1, "sent")]


async def test_subscribing_schedules_the_appointments_already_booked(repo: Repository, recorder: Recorder) -> None:
    patient, organisation = await citizen(repo), await unit(repo)
    start = _now() + 2 * DAY
    a = appointment(patient, organisation, start)
    await repo.update("Appointment", a["id"], a)
    assert await reminders_of(repo.store, patient) == []
    await subscribe(repo, Subscription(patient, "email", "borger@example.dk", 60), "citizen:test", _now())
    rows = await reminders_of(repo.store, patient)
    assert [r.state for r in rows] == ["pending"]
    assert datetime.fromisoformat(rows[0].due) == start - timedelta(minutes=60)


async def test_a_changed_appointment_is_rescheduled_and_only_the_new_version_is_sent(
    repo: Repository, worker: ReminderWorker, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    a = appointment(patient, organisation, _now() + 3 * DAY)
    await repo.update("Appointment", a["id"], a)
    await worker.step()
    later = _now() + 5 * DAY
    moved = {**a, "start": later.isoformat(timespec="seconds"), "end": (later + DAY).isoformat(timespec="seconds")}
    await repo.update("Appointment", a["id"], moved)
    await worker.step()
    assert await _states(repo.store, patient) == [(1, "superseded"), (2, "pending")]

    clock.advance(2 * DAY + timedelta(minutes=1))  # the old due time: nothing
    assert await worker.step() == 0
    clock.advance(2 * DAY)
    assert await worker.step() == 1
    assert len(recorder.sent) == 1 and await _states(repo.store, patient) == [(1, "superseded"), (2, "sent")]


async def test_a_cancelled_appointment_is_not_reminded(
    repo: Repository, worker: ReminderWorker, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    a = appointment(patient, organisation, _now() + 3 * DAY)
    await repo.update("Appointment", a["id"], a)
    await worker.step()
    await repo.update("Appointment", a["id"], {**a, "status": "cancelled"})
    clock.advance(3 * DAY)
    assert await worker.step() == 0
    assert recorder.sent == []
    assert await _states(repo.store, patient) == [(1, "cancelled")]


async def test_a_change_the_tail_has_not_seen_yet_is_caught_at_sending(
    repo: Repository, worker: ReminderWorker, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    a = appointment(patient, organisation, _now() + 3 * DAY)
    await repo.update("Appointment", a["id"], a)
    await worker.schedule()
    await repo.update("Appointment", a["id"], {**a, "status": "cancelled"})
    clock.advance(3 * DAY)
    assert await worker.dispatcher.step(clock()) == 1  # claimed, found stale, not sent
    assert recorder.sent == []
    assert (await reminders_of(repo.store, patient))[0].state == "cancelled"


async def test_unsubscribing_stops_pending_reminders(
    repo: Repository, worker: ReminderWorker, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    a = appointment(patient, organisation, _now() + 3 * DAY)
    await repo.update("Appointment", a["id"], a)
    await worker.step()
    assert await unsubscribe(repo, patient)
    assert not await unsubscribe(repo, patient)
    clock.advance(3 * DAY)
    await worker.step()
    assert recorder.sent == [] and await _states(repo.store, patient) == [(1, "unsubscribed")]


async def test_a_past_due_time_sends_at_once_and_a_past_start_never(
    repo: Repository, worker: ReminderWorker, recorder: Recorder
) -> None:
    patient, organisation = await _subscribed(repo)
    soon = appointment(patient, organisation, _now() + timedelta(hours=2))
    gone = appointment(patient, organisation, _now() - timedelta(hours=2))
    for a in (soon, gone):
        await repo.update("Appointment", a["id"], a)
    assert await worker.step() == 1
    assert [r.appointment_id for r in await reminders_of(repo.store, patient)] == [soon["id"]]


async def test_a_restarted_worker_never_sends_a_version_twice(
    repo: Repository, store: Store, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    first = appointment(patient, organisation, _now() + 3 * DAY)
    second = appointment(patient, organisation, _now() + 3 * DAY + timedelta(hours=1))
    for a in (first, second):
        await repo.update("Appointment", a["id"], a)
    await ReminderWorker(store, recorder, "before-restart", clock=clock).schedule()
    clock.advance(2 * DAY + timedelta(hours=2))
    # The process claims both reminders and dies before sending or settling them.
    assert len(await claim(store, "before-restart", clock(), 10)) == 2
    restarted = ReminderWorker(store, recorder, "after-restart", clock=clock)
    assert await restarted.step() == 0  # the claims are not taken over, and the history is not replayed into resends
    clock.advance(timedelta(minutes=11))
    await restarted.step()  # the lease has lapsed: unknown, never sent again
    assert recorder.sent == []
    assert sorted(s for _v, s in await _states(store, patient)) == ["unknown", "unknown"]

    third = appointment(patient, organisation, clock() + timedelta(hours=1))
    await repo.update("Appointment", third["id"], third)
    assert await restarted.step() == 1
    assert await ReminderWorker(store, recorder, "restarted-again", clock=clock).step() == 0
    assert [r.text for r in recorder.sent] and len(recorder.sent) == 1


async def test_two_workers_on_two_connections_send_each_reminder_once(
    repo: Repository, store: Store, store_url: str, definitions: Definitions, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    start = _now() + 3 * DAY
    ids = []
    for minute in range(12):
        a = appointment(patient, organisation, start + timedelta(minutes=minute))
        await repo.update("Appointment", a["id"], a)
        ids.append(a["id"])
    other_store = await open_indexed(store_url, definitions)
    try:
        one, two = Recorder(), Recorder()
        workers = [ReminderWorker(store, one, "one", clock=clock), ReminderWorker(other_store, two, "two", clock=clock)]
        await workers[1].schedule()
        clock.advance(2 * DAY + timedelta(hours=1))  # every reminder due, no appointment begun
        async with anyio.create_task_group() as group:
            for w in workers:
                group.start_soon(w.step)
        for w in workers:
            await w.step()
    finally:
        await other_store.close()
    sent_ids = [r.id for r in one.sent + two.sent]
    assert len(sent_ids) == len(set(sent_ids)) == 12
    assert {r.appointment_id for r in await reminders_of(store, patient) if r.state == "sent"} == set(ids)


async def test_transient_failures_are_retried_later_and_then_give_up(
    repo: Repository, store: Store, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    a = appointment(patient, organisation, _now() + timedelta(hours=2))
    await repo.update("Appointment", a["id"], a)
    recorder.failures = 1
    worker = ReminderWorker(store, recorder, "w", clock=clock, max_attempts=2)
    assert await worker.step() == 1 and recorder.sent == []
    assert await _states(store, patient) == [(1, "pending")]
    assert await worker.step() == 0  # waits before the next attempt
    clock.advance(timedelta(minutes=2))
    assert await worker.step() == 1 and len(recorder.sent) == 1

    b = appointment(patient, organisation, _now() + timedelta(hours=3))
    await repo.update("Appointment", b["id"], b)
    recorder.failures = 5
    await worker.step()
    clock.advance(timedelta(minutes=5))
    await worker.step()
    states = {r.appointment_id: r.state for r in await reminders_of(store, patient)}
    assert states[b["id"]] == "failed"


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
async def test_a_write_that_commits_after_a_later_one_is_still_seen(
    repo: Repository, store: Store, worker: ReminderWorker
) -> None:
    """PostgreSQL hands out history numbers at insert time: a slow transaction can commit after a faster
    one with a higher number. (SQLite has one writer, so there numbers are in commit order.)"""
    patient, organisation = await _subscribed(repo)
    slow = appointment(patient, organisation, _now() + 3 * DAY)
    fast = appointment(patient, organisation, _now() + 4 * DAY)
    async with store.transaction() as tx:
        await repo.update_in(tx, "Appointment", slow["id"], slow)
        await repo.update("Appointment", fast["id"], fast)
        await worker.schedule()
        assert [r.appointment_id for r in await reminders_of(store, patient)] == [fast["id"]]
    await worker.schedule()
    assert sorted(r.appointment_id for r in await reminders_of(store, patient)) == sorted([slow["id"], fast["id"]])
    restarted = ReminderWorker(store, Recorder(), "restarted")
    assert await restarted.schedule() == 2  # young rows stay in the window after a restart, and are harmless
    assert len(await reminders_of(store, patient)) == 2


async def test_a_deleted_appointment_is_not_reminded(
    repo: Repository, worker: ReminderWorker, recorder: Recorder, clock: Clock
) -> None:
    patient, organisation = await _subscribed(repo)
    a = appointment(patient, organisation, _now() + 3 * DAY)
    await repo.update("Appointment", a["id"], a)
    await worker.step()
    await repo.delete("Appointment", a["id"])
    clock.advance(2 * DAY + timedelta(hours=1))
    assert await worker.step() == 0
    assert recorder.sent == [] and await _states(repo.store, patient) == [(1, "cancelled")]
