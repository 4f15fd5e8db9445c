"""Shared fixtures: where the third-party test data lives, and the R4 definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bindeled.fhir.definitions import Definitions, load_definitions

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
"""Official examples and definitions (``../shared``); present in CI, never copied into the repo."""

# No timing in tests: Hypothesis' per-example deadline and its too-slow health check would fail a correct
# property on a busy machine, so they are off for every property test.
settings.register_profile("bindeled", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("bindeled")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing (expected at {SHARED})")
    return SHARED


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    """The official R4 definitions from the FHIR package cache (installed by set-up)."""
    return load_definitions()
