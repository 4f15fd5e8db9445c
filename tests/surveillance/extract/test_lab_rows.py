"""Lab intake shapes → HAIBA lab rows: organisms, colony counts, toxin findings, unmapped codes, retractions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import bindeled.surveillance.extract as extract_package
from bindeled.surveillance.extract.lab_rows import CDIFF, lab_rows
from bindeled.surveillance.extract.vocabulary import Vocabulary, default_vocabulary
from tests.surveillance.extract.world import blood_case, mapped_resources

WHEN = datetime(2026, 3, 5, 8, 0, tzinfo=UTC)


def _rows(resources: list[dict[str, Any]], vocab: Vocabulary | None = None, **kw: Any) -> list[dict[str, Any]]:
    report = next(r for r in resources if r["resourceType"] == "DiagnosticReport")
    specimen = next(r for r in resources if r["resourceType"] == "Specimen")
    observations = {r["id"]: r for r in resources if r["resourceType"] == "Observation"}
    return lab_rows(report, specimen, observations, vocab or default_vocabulary(), received_at=WHEN, **kw)


def test_urine_culture_gives_organism_material_and_colony_count() -> None:
    case = replace(blood_case("3000000001", WHEN, ("ECOL", "Escherichia coli")), kind="urine", cfu_per_ml=100_000)
    rows = _rows(mapped_resources(case, "F", "p1"))
    assert [(r["organism"], r["material"], r["analysis"], r["cfu_per_ml"]) for r in rows] == [
        ("Escherichia coli", "30001", "culture", 100_000.0)
    ]
    assert rows[0]["sample_id"] == "999000000000011:3000000001"
    assert rows[0]["sampled_at"] == WHEN


@pytest.mark.parametrize(("positive", "organism", "toxigenic"), [(True, CDIFF, True), (False, None, None)])
def test_cdiff_toxin_finding(positive: bool, organism: str | None, toxigenic: bool | None) -> None:
    case = replace(blood_case("3000000002", WHEN, None), kind="cdiff", toxin_positive=positive)
    rows = _rows(mapped_resources(case, "F", "p1"))
    assert [(r["organism"], r["toxigenic"], r["material"], r["analysis"]) for r in rows] == [
        (organism, toxigenic, "feces", "toxin")
    ]


def test_no_growth_is_one_row_without_organism() -> None:
    rows = _rows(mapped_resources(blood_case("3000000003", WHEN, None), "F", "p1"))
    assert len(rows) == 1 and rows[0]["organism"] is None and rows[0]["material"] == "blood"


def test_unmapped_codes_stay_unmapped() -> None:
    rows = _rows(
        mapped_resources(blood_case("3000000004", WHEN, ("SAUR", "Staphylococcus aureus")), "F", "p1"), Vocabulary({})
    )
    assert rows[0]["material"] is None and rows[0]["analysis"] is None
    assert rows[0]["organism"] is None  # without the "isolate" finding mapped, nothing is read as an organism


def test_retracted_report_gives_one_empty_row() -> None:
    rows = _rows(mapped_resources(blood_case("3000000005", WHEN, ("SAUR", "x")), "F", "p1"), retracted=True)
    assert [(r["organism"], r["retracted"]) for r in rows] == [(None, True)]


def test_a_sample_without_a_time_is_left_out() -> None:
    resources = mapped_resources(blood_case("3000000006", WHEN, None), "F", "p1")
    for r in resources:
        r.pop("effectiveDateTime", None)
        if r["resourceType"] == "Specimen":
            r["collection"] = {"collectedDateTime": (WHEN - timedelta(days=1)).date().isoformat()}
    assert _rows(resources) == []


def test_vocabulary_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="kind"):
        Vocabulary.from_csv("kind,system,code,term\nspecies,s,c,t\n")


def test_public_names() -> None:
    assert sorted(extract_package.__all__) == [
        "Extract",
        "ExtractSummary",
        "Vocabulary",
        "default_vocabulary",
        "extract_store",
        "load_extract",
    ]
