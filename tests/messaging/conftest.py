"""Shared MedCom fixtures: the packages, one validator per message type, clean messages to mutate."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.jsonio import decode
from bindeled.fhir.xmlio import xml_to_resource
from bindeled.messaging.profiles import ValidatorPool

PACKAGES = "standards/fhir-packages"
EXAMPLES = "standards/medcom/examples"

HN_EXAMPLE = "hospitalnotification/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"
CC_EXAMPLE = "carecommunication/Flow3-CareCommunication_Ex_to_OIOXML.xml"
CC_DEFINITION = (
    "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0"
)

# The published HospitalNotification example uses ids that are not UUIDs (documented in SOURCES.md);
# the clean copy swaps their first letter for a hex digit and changes nothing else.
_HN_ID_FIXES = {"t33cef33-": "a33cef33-", "o4cdf292-": "b4cdf292-", "o7056980-": "c7056980-"}


@pytest.fixture(scope="session")
def packages_dir(shared_dir: Path) -> Path:
    return shared_dir / PACKAGES


@pytest.fixture(scope="session")
def medcom_examples(shared_dir: Path) -> Path:
    return shared_dir / EXAMPLES


@pytest.fixture(scope="session")
def pool(definitions: Definitions, packages_dir: Path) -> ValidatorPool:
    """Validators are compiled once per session (each message type loads its own package versions)."""
    return ValidatorPool(definitions, packages_dir)


def load_message(path: Path, definitions: Definitions) -> dict[str, Any]:
    data = path.read_bytes()
    return decode(data) if path.suffix == ".json" else xml_to_resource(data, definitions)


@pytest.fixture(scope="session")
def _clean_hn(medcom_examples: Path) -> dict[str, Any]:
    text = (medcom_examples / HN_EXAMPLE).read_text(encoding="utf-8")
    for old, new in _HN_ID_FIXES.items():
        text = text.replace(old, new)
    return decode(text)


@pytest.fixture(scope="session")
def _clean_cc(medcom_examples: Path, definitions: Definitions) -> dict[str, Any]:
    bundle = load_message(medcom_examples / CC_EXAMPLE, definitions)
    bundle["entry"][0]["resource"]["definition"] = CC_DEFINITION
    return bundle


@pytest.fixture
def clean_hn(_clean_hn: dict[str, Any]) -> dict[str, Any]:
    """A STIN HospitalNotification (the official example with UUID ids) that passes every business rule."""
    return copy.deepcopy(_clean_hn)


@pytest.fixture
def clean_cc(_clean_cc: dict[str, Any]) -> dict[str, Any]:
    """A CareCommunication 5.0 (the official flow-3 example pinned to ``|5.0``) passing every business rule."""
    return copy.deepcopy(_clean_cc)


@pytest.fixture
def clean(_clean_hn: dict[str, Any], _clean_cc: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """A fresh copy of the clean ``"hn"`` or ``"cc"`` message on every call."""
    return lambda kind: copy.deepcopy(_clean_hn if kind == "hn" else _clean_cc)
