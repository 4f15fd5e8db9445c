"""Validators shared by the validation tests (compiling plans once per session keeps them fast)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.jsonio import decode
from bindeled.fhir.validation import Validator

DK_CORE = "standards/fhir-packages/hl7.fhir.dk.core#3.4.0"
MEDCOM_CORE = "standards/fhir-packages/medcom.fhir.dk.core#4.0.0"
EXAMPLES = "testdata/fhir-r4-examples"


@pytest.fixture(scope="session")
def validator(definitions: Definitions) -> Validator:
    return Validator(definitions)


@pytest.fixture(scope="session")
def dk_validator(definitions: Definitions, shared_dir: Path) -> Validator:
    v = Validator(definitions)
    v.add_package(shared_dir / DK_CORE)
    return v


@pytest.fixture(scope="session")
def examples_dir(shared_dir: Path) -> Path:
    return shared_dir / EXAMPLES


def load(path: Path) -> dict[str, Any]:
    return decode(path.read_bytes())


@pytest.fixture(scope="session")
def _patient(examples_dir: Path) -> dict[str, Any]:
    return load(examples_dir / "Patient-example.json")


@pytest.fixture(scope="session")
def _observation(examples_dir: Path) -> dict[str, Any]:
    return load(examples_dir / "Observation-example.json")


@pytest.fixture
def patient(_patient: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the official Patient example, free to mutate."""
    return copy.deepcopy(_patient)


@pytest.fixture
def observation(_observation: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(_observation)


def errors(issues: list[Issue]) -> list[tuple[str, str]]:
    """(code, location) of every error issue, for compact assertions."""
    return [(i.code, i.expression[0] if i.expression else "") for i in issues if i.is_error]
