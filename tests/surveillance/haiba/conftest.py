"""The ``case`` fixture: a fresh crafted data set per test."""

from __future__ import annotations

import pytest

from tests.surveillance.haiba.cases import Case


@pytest.fixture
def case() -> Case:
    return Case()
