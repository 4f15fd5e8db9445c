"""The extract from the store on both backends: incremental, as of a cut-off, corrections and retractions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from bindeled.errors import InvalidRequest
from bindeled.surveillance.extract import extract_store, load_extract
from bindeled.surveillance.haiba import definition, run
from tests.surveillance.extract.world import (
    T0,
    Writer,
    blood_case,
    encounter,
    mapped_resources,
    organisations,
    patient,
)

pytestmark = pytest.mark.anyio

ECOLI = ("ECOL", "Escherichia coli")
SAUR = ("SAUR", "Staphylococcus aureus")
C1 = T0 + timedelta(days=8)
C2 = T0 + timedelta(days=12)
C3 = T0 + timedelta(days=14)


async def _world(w: Writer) -> None:
    await w.put(T0 - timedelta(days=30), *organisations())
    await w.put(T0 - timedelta(days=1), patient("p1", "1950-04-01", "461"), patient("p2", "1960-05-01", "540"))
    await w.put(T0, encounter("e1", "p1", "ouh-med", T0, T0 + timedelta(days=10)))
    await w.put(T0 + timedelta(hours=1), encounter("e2", "p2", "ouh-kir", T0, T0 + timedelta(days=5)))
    hospital_acquired = blood_case("1000000001", T0 + timedelta(hours=72), ECOLI)
    await w.put(T0 + timedelta(days=5), *mapped_resources(hospital_acquired, "F", "p1", refused=True))
    community = blood_case("1000000002", T0 + timedelta(hours=24), SAUR)
    await w.put(T0 + timedelta(days=3), *mapped_resources(community, "F", "p2"))
    # After C1: the laboratory corrects the first sample to "no growth".
    corrected = blood_case("1000000001", T0 + timedelta(hours=72), None)
    await w.put(T0 + timedelta(days=9), *mapped_resources(corrected, "C", "p1"))


def _counted(folder: Path, cutoff: object) -> pl.DataFrame:
    extract = load_extract(folder, cutoff)  # type: ignore[arg-type]
    result = run(extract.haiba, as_of=extract.cutoff, infections=["bacteraemia"])
    return result.episodes.filter(pl.col("counted")).select("patient", "class", "department", "hospital", "region")


async def test_refused_result_counts_and_is_attributed_through_the_sor_tree(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    summary = await extract_store(writer.repo, tmp_path / "x", C1)
    assert summary.versions["DiagnosticReport"] == 2
    assert summary.rows["contacts"] == 2
    counted = _counted(tmp_path / "x", C1)
    assert counted.to_dicts() == [
        {
            "patient": "p1",
            "class": "HA",
            "department": "ouh-med",
            "hospital": "Odense Universitetshospital",
            "region": "DK-83",
        }
    ]


async def test_a_later_correction_does_not_change_an_earlier_cutoff(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    folder = tmp_path / "x"
    await extract_store(writer.repo, folder, C1)
    before = _counted(folder, C1)
    again = await extract_store(writer.repo, folder, C2)
    assert again.since == C1
    assert again.versions["DiagnosticReport"] == 1  # only the correction is read
    assert _counted(folder, C1).equals(before)
    assert _counted(folder, C2).height == 0


async def test_one_run_to_a_late_cutoff_sees_the_same_past(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    await extract_store(writer.repo, tmp_path / "inc", C1)
    await extract_store(writer.repo, tmp_path / "inc", C2)
    await extract_store(writer.repo, tmp_path / "once", C2)
    for cutoff in (C1, C2):
        assert _counted(tmp_path / "inc", cutoff).equals(_counted(tmp_path / "once", cutoff))


async def test_deleted_encounter_is_retracted_from_later_cutoffs(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    await writer.delete(T0 + timedelta(days=13), "Encounter", "e2")
    folder = tmp_path / "x"
    await extract_store(writer.repo, folder, C3)
    contacts = {c: load_extract(folder, c).haiba.contacts.collect()["contact_id"].to_list() for c in (C2, C3)}
    assert sorted(contacts[C2]) == ["e1", "e2"]
    assert contacts[C3] == ["e1"]


async def test_municipalities_and_birth_dates_come_from_the_patient(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    await extract_store(writer.repo, tmp_path / "x", C1)
    extract = load_extract(tmp_path / "x", C1)
    assert extract.municipalities.to_dicts() == [
        {"patient": "p1", "municipality": "461"},
        {"patient": "p2", "municipality": "540"},
    ]


async def test_a_cutoff_beyond_the_extract_is_refused(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    await extract_store(writer.repo, tmp_path / "x", C1)
    with pytest.raises(InvalidRequest, match="reaches"):
        load_extract(tmp_path / "x", C2)
    assert (await extract_store(writer.repo, tmp_path / "x", T0)).rows == {}  # already there: nothing to do


@pytest.mark.parametrize("variant", ["haiba", "ecdc", "nhsn"])
async def test_engine_rates_over_the_extract_record_the_definition(
    writer: Writer, tmp_path: Path, variant: str
) -> None:
    await _world(writer)
    await extract_store(writer.repo, tmp_path / "x", C1)
    extract = load_extract(tmp_path / "x", C1)
    result = run(extract.haiba, as_of=C1, definition=definition(variant))
    for level in ("department", "hospital", "region", "week", "month"):
        rates = result.rates(level)
        assert set(rates["definition"]) == {result.version} and result.version.startswith(f"{variant}/")
    by_department = result.rates("department").filter(pl.col("infection") == "bacteraemia")
    assert set(by_department["department"]) == {"ouh-med", "ouh-kir"}
    assert by_department["risk_days"].sum() > 0


async def test_a_part_changed_alone_is_re_derived_with_its_report(writer: Writer, tmp_path: Path) -> None:
    await _world(writer)
    folder = tmp_path / "x"
    await extract_store(writer.repo, folder, C2)
    community = mapped_resources(blood_case("1000000002", T0 + timedelta(hours=24), SAUR), "F", "p2")
    isolate = next(r for r in community if r["resourceType"] == "Observation" and "valueCodeableConcept" in r)
    ecoli = mapped_resources(blood_case("1000000002", T0 + timedelta(hours=24), ECOLI), "F", "p2")
    isolate["valueCodeableConcept"] = next(
        r for r in ecoli if r["resourceType"] == "Observation" and "valueCodeableConcept" in r
    )["valueCodeableConcept"]
    await writer.put(T0 + timedelta(days=13), isolate)
    summary = await extract_store(writer.repo, folder, C3)
    assert summary.versions["DiagnosticReport"] == 0 and summary.versions["Observation"] == 1

    def organism(cutoff: object) -> list[str]:
        lab = load_extract(folder, cutoff).haiba.lab_results.collect()  # type: ignore[arg-type]
        return lab.filter(pl.col("sample_id").str.ends_with("1000000002"))["organism"].to_list()

    assert organism(C2) == ["Staphylococcus aureus"]
    assert organism(C3) == ["Escherichia coli"]
