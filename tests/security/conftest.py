"""Fixtures for the security tests: a world with bindeled's own issuer, registers and an in-memory sink."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.world import World


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)
