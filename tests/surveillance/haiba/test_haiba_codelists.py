"""Code lists are data: shipped files, classification, and a checksum in the definition version."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from bindeled.errors import Unprocessable
from bindeled.surveillance.haiba import definition, load_codelists


def _data_dir() -> Path:
    return Path(str(resources.files("bindeled.surveillance.haiba") / "data"))


def test_shipped_lists() -> None:
    lists = load_codelists()
    assert lists.materials_for("uti") == {"30001", "30010", "30070", "30080", "30090", "30110"}
    assert "Clostridioides difficile" in lists.organisms_for("cdi")
    assert len(lists.digest) == 12


def test_classification() -> None:
    names = ["Staphylococcus epidermidis", "Staphylococcus aureus", "Bacillus anthracis", "Bacillus subtilis", None]
    is_contaminant, group = load_codelists().classify(pl.col("organism"))
    out = pl.DataFrame({"organism": names}).select(c=is_contaminant, g=group)
    assert out.rows() == [(True, "CoNS"), (False, None), (False, None), (True, "Bacillus"), (False, None)]


def test_edited_list_changes_the_version(tmp_path: Path) -> None:
    for f in _data_dir().iterdir():
        shutil.copy(f, tmp_path / f.name)
    with (tmp_path / "contaminants.csv").open("a") as f:
        f.write("species,Rothia mucilaginosa,Rothia\n")
    edited = load_codelists(tmp_path)
    assert edited.digest != load_codelists().digest
    assert definition(codelists=edited).version != definition().version


def test_bad_match_kind_is_refused(tmp_path: Path) -> None:
    for f in _data_dir().iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "contaminants.csv").write_text("match,taxon,group\nfamily,Bacillaceae,x\n")
    with pytest.raises(Unprocessable):
        load_codelists(tmp_path)
