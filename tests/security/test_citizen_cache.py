"""The per-process Patient → CPR cache: what it keeps, and that a Patient write is never answered stale."""

from __future__ import annotations

import asyncio

from bindeled.security.citizen_cache import CitizenCache
from bindeled.store.guard import SystemGuard
from bindeled.store.repository import PendingWrite


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(**kwargs: float) -> tuple[CitizenCache, Clock]:
    clock = Clock()
    return CitizenCache(clock=clock, **kwargs), clock  # type: ignore[arg-type]


def test_keeps_what_was_read_and_forgets_on_write() -> None:
    cache, _clock = _cache()
    assert cache.get("Patient/1") == (False, None)
    cache.put("Patient/1", "0101011234", cache.generation)
    cache.put("Patient/2", None, cache.generation)
    assert cache.get("Patient/1") == (True, "0101011234")
    assert cache.get("Patient/2") == (True, None)
    cache.forget("Patient/1")
    assert cache.get("Patient/1") == (False, None)
    assert cache.get("Patient/2") == (True, None)


def test_an_answer_read_across_a_write_is_not_kept() -> None:
    cache, _clock = _cache()
    began = cache.generation
    cache.forget("Patient/9")  # some Patient write started while the read was under way
    cache.put("Patient/1", "0101011234", began)
    assert cache.get("Patient/1") == (False, None)


def test_a_written_patient_stays_out_until_its_write_has_settled() -> None:
    cache, clock = _cache(settle_seconds=60)
    cache.forget("Patient/1")
    cache.put("Patient/1", "old", cache.generation)  # read while the write was not committed yet
    assert cache.get("Patient/1") == (False, None)
    clock.now += 61
    cache.put("Patient/1", "new", cache.generation)
    assert cache.get("Patient/1") == (True, "new")


def test_entries_age_out_and_the_size_is_bounded() -> None:
    cache, clock = _cache(max_age=10, size=2)
    for n in range(3):
        cache.put(f"Patient/{n}", str(n), cache.generation)
    assert cache.get("Patient/0") == (False, None)
    assert cache.get("Patient/2") == (True, "2")
    clock.now += 11
    assert cache.get("Patient/2") == (False, None)
    off, _ = _cache(size=0)
    off.put("Patient/1", "x", off.generation)
    assert off.get("Patient/1") == (False, None)


def test_the_write_rule_forgets_patients_only() -> None:
    cache, _clock = _cache()
    cache.put("Patient/1", "x", cache.generation)
    cache.put("Patient/2", "y", cache.generation)

    def pending(rtype: str, before: dict[str, str] | None, after: dict[str, str] | None) -> PendingWrite:
        return PendingWrite(None, SystemGuard(), "update", rtype, before, after)  # type: ignore[arg-type]

    assert asyncio.run(cache.write_rule(pending("Observation", {"id": "1"}, {"id": "1"}))) is None
    assert cache.get("Patient/1") == (True, "x")
    asyncio.run(cache.write_rule(pending("Patient", {"id": "1"}, None)))  # a delete
    asyncio.run(cache.write_rule(pending("Patient", None, {"id": "2"})))  # a create with the client's id
    assert cache.get("Patient/1") == (False, None) and cache.get("Patient/2") == (False, None)
