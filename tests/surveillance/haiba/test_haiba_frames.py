"""Input validation: schemas, time zones, patient key types, Parquet extracts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from bindeled.errors import InvalidRequest, Unprocessable
from bindeled.surveillance.haiba import SCHEMAS, HaibaData, run
from tests.surveillance.haiba.cases import CUTOFF, T0, Case, D


def test_missing_column_names_the_column(case: Case) -> None:
    case.contact(T0, T0 + D)
    contacts = pl.DataFrame(case.contacts, schema=dict(SCHEMAS["contacts"])).drop("department")
    with pytest.raises(InvalidRequest) as caught:
        HaibaData.from_frames(contacts=contacts, lab_results=pl.DataFrame(schema=dict(SCHEMAS["lab_results"])))
    assert caught.value.args[0] == "contacts lacks column 'department'"


def test_naive_timestamps_are_refused(case: Case) -> None:
    case.contact(T0, T0 + D)
    contacts = pl.DataFrame(case.contacts, schema=dict(SCHEMAS["contacts"]))
    naive = contacts.with_columns(pl.col("start").dt.replace_time_zone(None))
    with pytest.raises(InvalidRequest, match="time-zone-aware"):
        HaibaData.from_frames(contacts=naive, lab_results=pl.DataFrame(schema=dict(SCHEMAS["lab_results"])))
    with pytest.raises(InvalidRequest):
        run(case.data(), as_of=datetime(2025, 1, 1))


def test_wrong_type_is_refused(case: Case) -> None:
    case.contact(T0, T0 + D).sample(T0 + D, "Escherichia coli")
    lab = pl.DataFrame(case.lab, schema=dict(SCHEMAS["lab_results"])).with_columns(pl.col("toxigenic").cast(pl.String))
    with pytest.raises(InvalidRequest, match=r"lab_results\.toxigenic"):
        HaibaData.from_frames(contacts=pl.DataFrame(case.contacts), lab_results=lab)


def test_integer_patient_keys_and_other_zones(case: Case) -> None:
    case.contact(T0, T0 + 10 * D).sample(T0 + 3 * D, "Escherichia coli")
    contacts = pl.DataFrame(case.contacts, schema=dict(SCHEMAS["contacts"])).with_columns(
        pl.lit(42).alias("patient"), pl.col("start").dt.convert_time_zone("Europe/Copenhagen")
    )
    lab = pl.DataFrame(case.lab, schema=dict(SCHEMAS["lab_results"])).with_columns(pl.lit(42).alias("patient"))
    result = run(HaibaData.from_frames(contacts=contacts, lab_results=lab), as_of=CUTOFF)
    assert result.episodes.select("patient", "class").rows() == [(42, "HA")]


def test_mixed_patient_key_types_are_refused(case: Case) -> None:
    case.contact(T0, T0 + D).sample(T0 + D, "Escherichia coli")
    lab = pl.DataFrame(case.lab, schema=dict(SCHEMAS["lab_results"])).with_columns(pl.lit(1).alias("patient"))
    with pytest.raises(InvalidRequest, match="patient keys"):
        HaibaData.from_frames(contacts=pl.DataFrame(case.contacts), lab_results=lab)


def test_contact_ending_before_it_starts_is_unprocessable(case: Case) -> None:
    case.contact(T0, T0 - D)
    with pytest.raises(Unprocessable):
        case.run()


def test_parquet_extract_round_trip(case: Case, tmp_path: Path) -> None:
    case.contact(T0, T0 + 10 * D).stay(T0, T0 + 10 * D, "W1").sample(T0 + 3 * D, "Escherichia coli")
    data = case.data()
    for name in ("contacts", "stays", "lab_results"):
        getattr(data, name).collect().write_parquet(tmp_path / f"{name}.parquet")
    scanned = HaibaData.scan_parquet(tmp_path)
    assert run(scanned, as_of=CUTOFF).episodes.drop("as_of").equals(run(data, as_of=CUTOFF).episodes.drop("as_of"))
    (tmp_path / "contacts.parquet").unlink()
    with pytest.raises(InvalidRequest):
        HaibaData.scan_parquet(tmp_path)
