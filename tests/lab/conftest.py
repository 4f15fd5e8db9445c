"""Fixtures for the lab tests: an in-memory sink and the asyncio backend for anyio tests."""

from __future__ import annotations

import pytest

from bindeled.lab import MemorySink


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()
