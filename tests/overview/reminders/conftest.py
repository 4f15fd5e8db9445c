"""Reminder fixtures: a store per backend, a repository with search, a settable clock, a recording sender.

Tests drive the worker in the foreground (:meth:`ReminderWorker.step`) with a clock they move, so
nothing depends on timing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.overview.appointment_model import OWNER_TYPE, PERFORMER
from bindeled.overview.reminders import OutgoingReminder, ReminderWorker, TransientSendError
from bindeled.store.base import Store
from bindeled.store.factory import open_store
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from tests.backends import postgres_database

CPR = "6101709995"
_TABLES = ("reminder", "reminder_subscription", "reminder_cursor", "resource_history", "resources")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def validator(definitions: Definitions) -> Validator:
    return Validator(definitions)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with postgres_database("bindeled_reminders") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reminders.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


async def open_indexed(url: str, definitions: Definitions) -> Store:
    """A second (or first) store on ``url`` that indexes what it writes."""
    store = open_store(url, indexer=SearchIndexer(definitions))
    await store.open()
    return store


@pytest.fixture
async def store(store_url: str, definitions: Definitions) -> AsyncIterator[Store]:
    opened = await open_indexed(store_url, definitions)
    async with opened.transaction() as tx:
        for table in (*SearchIndexer(definitions).tables(), *_TABLES):
            await tx.fetch_all(f"DELETE FROM {table}")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def repo(store: Store, definitions: Definitions, validator: Validator) -> AsyncIterator[Repository]:
    """A repository used as trusted internal work (the tests stand in for the API and its gate)."""
    with as_system():
        yield Repository(store, definitions, validator)


@dataclass
class Clock:
    """Real time plus an offset the test moves forward."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Recorder:
    """A sender that keeps what it was given; ``failures`` transient failures come first."""

    sent: list[OutgoingReminder] = field(default_factory=list)
    failures: int = 0

    async def send(self, reminder: OutgoingReminder) -> None:
        if self.failures:
            self.failures -= 1
            raise TransientSendError("gateway down")
        self.sent.append(reminder)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(store: Store, recorder: Recorder, clock: Clock) -> ReminderWorker:
    return ReminderWorker(store, recorder, "worker-a", clock=clock)


async def citizen(repo: Repository, cpr: str = CPR) -> str:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": cpr}],
        "name": [{"family": "Demo Borger", "given": ["Carl"]}],
    }
    return (await repo.create("Patient", patient)).stored.id


async def unit(repo: Repository) -> str:
    organization = {
        "resourceType": "Organization",
        "identifier": [{"system": "urn:oid:1.2.208.176.1.1", "value": "325441000016006"}],
        "name": "Regionshospitalet",
        "telecom": [{"system": "phone", "value": "66113322"}],
    }
    return (await repo.create("Organization", organization)).stored.id


def appointment(patient: str, organisation: str, start: datetime, **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(uuid.uuid4()),
        "extension": [
            {"url": OWNER_TYPE, "valueCode": "regional"},
            {"url": PERFORMER, "valueReference": {"reference": f"Organization/{organisation}"}},
        ],
        "status": "booked",
        "reasonCode": [{"text": "Kontrol af hjertemedicin"}],
        "start": start.isoformat(timespec="seconds"),
        "end": (start + timedelta(minutes=30)).isoformat(timespec="seconds"),
        "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
    }
    resource.update(changes)
    return resource
