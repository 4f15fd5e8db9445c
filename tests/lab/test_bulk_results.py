"""The bulk lab load ends where the intake ends: the same searches, current view and lab tables, both backends."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bindeled.demo.patients import synthetic_citizens
from bindeled.errors import Conflict
from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.lab import bulk_results, receive_er7
from bindeled.lab.bulk_results import bulk_store_er7
from bindeled.lab.demo_results import (
    Outbreak,
    bulk_load_demo_results,
    citizen_of,
    demo_cases,
    demo_messages,
    load_demo_results,
)
from bindeled.lab.hl7v2.oru_r01 import CPR_SYSTEM
from bindeled.lab.store_sink import StoreSink
from bindeled.store.factory import open_store
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from tests.backends import BACKENDS, database_url_for
from tests.lab.messages import oru

pytestmark = pytest.mark.anyio

Resource = dict[str, Any]
LAB_TYPES = ("Specimen", "DiagnosticReport", "Observation")


@pytest.fixture(params=BACKENDS)
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two new, empty databases of one backend: one for the intake, one for the bulk load."""
    (tmp_path / "intake").mkdir()
    (tmp_path / "bulk").mkdir()
    with (
        database_url_for(request.param, tmp_path / "intake") as intake,
        database_url_for(request.param, tmp_path / "bulk") as bulk,
    ):
        yield intake, bulk


@asynccontextmanager
async def opened(url: str, definitions: Definitions) -> AsyncIterator[Repository]:
    store = open_store(url, indexer=SearchIndexer(definitions))
    await store.open()
    try:
        yield Repository(store, definitions, Validator(definitions))
    finally:
        await store.close()


@asynccontextmanager
async def two_repos(urls: tuple[str, str], definitions: Definitions) -> AsyncIterator[tuple[Repository, Repository]]:
    async with opened(urls[0], definitions) as intake, opened(urls[1], definitions) as bulk:
        yield intake, bulk


async def search(repo: Repository, kind: str, params: list[tuple[str, str]]) -> list[Resource]:
    with as_system():
        _, result = await repo.search(kind, [*params, ("_count", "1000")])
    return [stored.resource() for stored in result.resources]


async def current_view(repo: Repository) -> dict[str, list[str]]:
    """Every lab resource as found by search, without version facts, its Patient named by CPR number."""
    by_id = {p["id"]: p["identifier"][0]["value"] for p in await search(repo, "Patient", [])}
    view: dict[str, list[str]] = {}
    for kind in LAB_TYPES:
        bodies = []
        for resource in await search(repo, kind, []):
            meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
            text = jsonio.encode({**resource, "meta": meta}).decode()
            for pid, cpr in by_id.items():
                text = text.replace(f'"Patient/{pid}"', f'"Patient/cpr-{cpr}"')
            bodies.append(text)
        view[kind] = sorted(bodies)
    return view


async def found_ids(repo: Repository, kind: str, params: list[tuple[str, str]]) -> list[str]:
    return sorted(r["id"] for r in await search(repo, kind, params))


async def lab_tables(repo: Repository) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The version rows (without the arrival instant) and the remembered messages."""
    versions = await repo.store.fetch_all(
        "SELECT laboratory, sample_number, analysis, control_id, status, message_time, outcome, body"
        " FROM lab_result_version"
    )
    messages = await repo.store.fetch_all("SELECT laboratory, control_id FROM lab_message")
    decoded = [(*row[:7], jsonio.decode_stored(bytes(row[7]))) for row in versions]
    return sorted(decoded, key=repr), sorted(messages)


async def assert_same_end_state(intake: Repository, bulk: Repository, cprs: list[str]) -> None:
    view = await current_view(intake)
    assert all(view.values())
    assert await current_view(bulk) == view
    assert await lab_tables(bulk) == await lab_tables(intake)
    for params in (
        [("status", "corrected")],
        [("status", "final,preliminary")],
        [("code", "BLOD-D")],
        *([("subject:Patient.identifier", f"{CPR_SYSTEM}|{cpr}")] for cpr in cprs[:5]),
    ):
        assert await found_ids(bulk, "DiagnosticReport", params) == await found_ids(intake, "DiagnosticReport", params)
    for cpr in cprs[:5]:
        params = [("subject:Patient.identifier", f"{CPR_SYSTEM}|{cpr}")]
        assert await found_ids(bulk, "Observation", params) == await found_ids(intake, "Observation", params)


async def store_patients(repo: Repository, patients: list[Resource]) -> dict[str, str]:
    with as_system():
        async with repo.store.transaction() as tx:
            for patient in patients:
                await repo.update_in(tx, "Patient", patient["id"], patient)
    return {p["identifier"][0]["value"]: p["id"] for p in patients}


async def test_the_demo_stream_in_bulk_ends_as_through_the_intake(
    urls: tuple[str, str], definitions: Definitions
) -> None:
    groups = list(synthetic_citizens(40, seed=11))
    people = [c for c in (citizen_of(g[0]) for g in groups) if c is not None]
    cases = demo_cases(people, seed=5, outbreak=Outbreak(cases=4))
    stored = [g[0] for g in groups[:20]]  # the other half's Patients are created from the messages
    async with two_repos(urls, definitions) as (intake, bulk):
        await store_patients(intake, stored)
        known = await store_patients(bulk, stored)
        through_intake = await load_demo_results(intake, cases, seed=5)
        in_bulk = await bulk_load_demo_results(bulk, cases, seed=5, patients=known)
        assert in_bulk == through_intake
        assert in_bulk.current > len({c.case.sample_number for c in cases})  # preliminaries were superseded
        await assert_same_end_state(intake, bulk, [p.cpr for p in people])
        with pytest.raises(Conflict):
            await bulk_load_demo_results(bulk, cases, seed=5, patients=known)


async def test_out_of_order_repeated_and_correcting_messages_end_alike(
    urls: tuple[str, str], definitions: Definitions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_results, "_MESSAGES_PER_CHUNK", 7)  # several chunks through the worker processes
    people = [c for c in (citizen_of(g[0]) for g in synthetic_citizens(15, seed=2)) if c is not None]
    texts = list(demo_messages(demo_cases(people, seed=3, outbreak=None), seed=3, correction_rate=0.5))
    fewer = ("OBX|1|CWE|ISO^Isolat^L|1|SAUR^Staphylococcus aureus^L||||||C",)
    texts += [oru(control_id="V1"), oru(status="C", control_id="V2", sent="20260311090000", obx=fewer)]
    random.Random(8).shuffle(texts)
    texts += texts[:3]  # redelivered
    async with two_repos(urls, definitions) as (intake, bulk):
        sink = StoreSink(intake)
        for text in texts:
            await receive_er7(text.encode(), sink)
        loaded = await bulk_store_er7(bulk, texts, workers=2)
        assert (loaded.messages, loaded.duplicates) == (len(texts), 3)
        assert loaded.history > 0
        assert loaded.patients_created == len(await search(intake, "Patient", [])) > 1
        await assert_same_end_state(intake, bulk, [p.cpr for p in people])


async def test_the_intake_carries_on_from_a_bulk_load(urls: tuple[str, str], definitions: Definitions) -> None:
    first, correction = oru(control_id="V1"), oru(status="C", control_id="V2", sent="20260311090000")
    async with two_repos(urls, definitions) as (intake, bulk):
        await receive_er7(first.encode(), StoreSink(intake))
        await bulk_store_er7(bulk, [first])
        for repo in (intake, bulk):
            await receive_er7(correction.encode(), StoreSink(repo))
            await receive_er7(first.encode(), StoreSink(repo))  # a late redelivery changes nothing
        await assert_same_end_state(intake, bulk, ["0101801234"])
        (report,) = await search(bulk, "DiagnosticReport", [])
        assert report["status"] == "corrected"
