"""The validator reports exactly the recorded issues on every official MedCom and R4 example and on
hundreds of damaged MedCom messages (see :mod:`.golden_issues`): making it faster must not make it
say anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bindeled.fhir.definitions import Definitions

from .golden_issues import DAMAGES_PER_EXAMPLE, cases, issue_rows, read


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[list[Any]]]:
    return read()


def test_same_issues_as_recorded(shared_dir: Path, definitions: Definitions, recorded: dict[str, Any]) -> None:
    found = {c.name: issue_rows(c.validator.validate(c.document, c.profiles)) for c in cases(shared_dir, definitions)}
    assert found.keys() == recorded.keys()
    changed = {name: (recorded[name], rows) for name, rows in found.items() if rows != recorded[name]}
    assert changed == {}


def test_recorded_cases_exercise_errors(recorded: dict[str, Any]) -> None:
    """The damaged messages really break things in many ways (a golden file of passes proves little)."""
    medcom = {name: rows for name, rows in recorded.items() if not name.startswith("r4/")}
    assert len(medcom) == 18 * (DAMAGES_PER_EXAMPLE + 1)
    codes = {row[1] for rows in medcom.values() for row in rows if row[0] == "error"}
    assert {"structure", "required", "value", "code-invalid", "invariant"} <= codes
    assert sum(1 for rows in medcom.values() if any(row[0] == "error" for row in rows)) > len(medcom) / 3
