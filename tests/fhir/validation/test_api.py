"""The public surface of bindeled.fhir.validation, pinned."""

from __future__ import annotations

import inspect

from bindeled.fhir import validation
from bindeled.fhir.validation import NATIVE, SKIPPED, Validator


def test_all_is_pinned() -> None:
    assert sorted(validation.__all__) == ["NATIVE", "SKIPPED", "SnapshotError", "Validator", "generate_snapshot"]


def test_validator_signatures() -> None:
    assert list(inspect.signature(Validator.__init__).parameters) == ["self", "definitions", "fast_invariants"]
    assert list(inspect.signature(Validator.add_structure_definitions).parameters) == ["self", "sds"]
    assert list(inspect.signature(Validator.add_package).parameters) == ["self", "folder"]
    assert list(inspect.signature(Validator.validate).parameters) == ["self", "resource", "profiles"]


def test_every_skipped_or_native_invariant_has_a_reason() -> None:
    for table in (NATIVE, SKIPPED):
        for key, reason in table.items():
            assert key and len(reason) > 20, key
    assert not set(NATIVE) & set(SKIPPED)
