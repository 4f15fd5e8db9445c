"""Fixtures for the SOR register tests: the public sample exports and the synthetic region."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindeled.registry import SorExport, SorTree, load_export, synthetic_region

SOR_SAMPLES = "standards/esp/sor-xml"


@pytest.fixture(scope="session")
def sor_dir(shared_dir: Path) -> Path:
    return shared_dir / SOR_SAMPLES


@pytest.fixture(scope="session")
def sygehus(sor_dir: Path) -> SorExport:
    return load_export(sor_dir / "ONE_SYGEHUS.xml")


@pytest.fixture(scope="session")
def praksis(sor_dir: Path) -> SorExport:
    return load_export(sor_dir / "ONE_PRAKSIS.xml")


@pytest.fixture(scope="session")
def apotek(sor_dir: Path) -> SorExport:
    return load_export(sor_dir / "ONE_APOTEK.xml")


@pytest.fixture(scope="session")
def region() -> SorTree:
    return SorTree.from_export(synthetic_region())
