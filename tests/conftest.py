"""Shared fixtures: where the third-party test data lives, and the R4 definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindeled.fhir.definitions import Definitions, load_definitions

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
"""Official examples and definitions (``../shared``); present in CI, never copied into the repo."""


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing (expected at {SHARED})")
    return SHARED


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    """The official R4 definitions from the FHIR package cache (installed by set-up)."""
    return load_definitions()
