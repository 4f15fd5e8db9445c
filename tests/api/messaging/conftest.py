"""Fixtures of the hub's HTTP tests: the examples' parties in the register, sender clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.messaging.profiles import ValidatorPool
from tests.api.conftest import LiveServer
from tests.api.messaging._hub import PACKAGES, register_examples, sender


@pytest.fixture(scope="session")
def hub_register(server: LiveServer, admin_headers: dict[str, str]) -> None:
    """Register the official examples' parties (idempotent PUTs) once per server."""
    with httpx.Client(base_url=server.base, timeout=60, headers=admin_headers) as admin:
        register_examples(admin)


@pytest.fixture
def as_sender(server: LiveServer, hub_register: None) -> Iterator[Callable[[str], httpx.Client]]:
    """Clients of sender systems acting for a given SOR unit."""
    opened: list[httpx.Client] = []

    def make(sor: str, **kwargs: str) -> httpx.Client:
        client = sender(server, sor, **kwargs)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture(scope="session")
def ack_pool(definitions: Definitions) -> ValidatorPool:
    """Validators for checking the hub's Acknowledgements against the MedCom profile."""
    return ValidatorPool(definitions, PACKAGES)
