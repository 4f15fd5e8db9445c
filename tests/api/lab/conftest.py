"""Results refused for display are taken away after each test (see ``forget_refused_results``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _forget_refused_results(forget_refused_results: None) -> None:
    """Every test here may store results refused for display; the shared server forgets them afterwards."""
