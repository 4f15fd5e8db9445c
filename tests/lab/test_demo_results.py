"""The demo's result stream: given citizens, hospital-onset cases, a seeded outbreak, loaded through the store."""

from __future__ import annotations

from collections import Counter

import pytest

from bindeled.demo.patients import SYNTHETIC_TAG, synthetic_citizens
from bindeled.lab.demo_results import (
    Citizen,
    Outbreak,
    citizen_of,
    demo_cases,
    demo_messages,
    load_demo_results,
)
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM, map_oru_r01
from bindeled.lab.store_sink import StoreSink
from bindeled.store.guard import as_system

pytestmark = pytest.mark.anyio


def citizens(count: int, seed: int = 3) -> list[Citizen]:
    found = [citizen_of(group[0]) for group in synthetic_citizens(count, seed=seed)]
    return [c for c in found if c is not None]


def test_citizens_are_read_from_synthetic_patients() -> None:
    (patient, *_), *_ = synthetic_citizens(1, seed=5)
    citizen = citizen_of(patient)
    assert citizen is not None
    assert citizen.cpr == patient["identifier"][0]["value"]
    assert citizen.sex in ("F", "M")
    assert citizen_of({"resourceType": "Patient"}) is None


def test_the_stream_belongs_to_the_citizens_and_has_hospital_onset_cases_and_an_outbreak() -> None:
    people = citizens(200)
    cases = demo_cases(people, seed=9)
    assert {c.case.cpr for c in cases} <= {p.cpr for p in people}
    assert {c.case.kind for c in cases} == {"blood", "urine", "cdiff"}
    assert any(c.hospital_onset and not c.outbreak for c in cases)
    assert any(c.case.admitted is not None and not c.hospital_onset for c in cases)
    cluster = [c for c in cases if c.outbreak]
    assert len(cluster) == Outbreak().cases
    assert {(c.case.organism, c.case.ward) for c in cluster} == {(Outbreak().organism, Outbreak().ward)}
    assert all(c.hospital_onset for c in cluster)
    patterns = {tuple(s.category for s in c.case.panel) for c in cluster}
    assert len(patterns) == 1
    assert [c.case.collected for c in cases] == sorted(c.case.collected for c in cases)


def test_messages_map_and_keep_the_citizens_identity() -> None:
    people = citizens(30)
    by_cpr = {p.cpr: p for p in people}
    texts = list(demo_messages(demo_cases(people, seed=2), seed=2))
    statuses: Counter[str] = Counter()
    for text in texts:
        (result,) = map_oru_r01(er7.parse(text)).results
        statuses[result.status] += 1
        person = by_cpr[result.cpr]
        assert result.patient["name"][0]["family"] == person.family
    assert statuses["final"] > statuses["preliminary"] > 0


def test_an_unknown_outbreak_organism_is_refused() -> None:
    with pytest.raises(ValueError, match="organism"):
        demo_cases(citizens(3), outbreak=Outbreak(organism=("XXXX", "Nothing")))


async def test_loading_stores_tagged_results_through_the_sink(store_sink: StoreSink) -> None:
    people = citizens(12)
    cases = demo_cases(people, seed=4, outbreak=Outbreak(cases=3))
    summary = await load_demo_results(store_sink.repo, cases, seed=4)
    assert summary.current == summary.messages > len(cases) - 1
    assert summary.duplicates == 0
    with as_system():
        _, reports = await store_sink.repo.search("DiagnosticReport", [("_count", "500")])
        _, patients = await store_sink.repo.search("Patient", [("_count", "500")])
    assert len(reports.resources) == len(cases)
    assert all(SYNTHETIC_TAG in r.resource()["meta"]["tag"] for r in reports.resources)
    stored_cprs = {r.resource()["identifier"][0]["value"] for r in patients.resources}
    assert stored_cprs == {c.case.cpr for c in cases}
    assert all(i["system"] == CPR_SYSTEM for p in patients.resources for i in p.resource()["identifier"])
    again = await load_demo_results(store_sink.repo, cases, seed=4)
    assert (again.current, again.duplicates) == (0, summary.messages)
