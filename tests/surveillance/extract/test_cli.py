"""``bindeled surveillance extract`` and ``report`` from the shell, on a SQLite database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from bindeled.cli import main
from bindeled.fhir.definitions import load_definitions
from bindeled.fhir.validation import Validator
from bindeled.store.factory import open_store
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer
from tests.surveillance.extract.conftest import Clock
from tests.surveillance.extract.test_extract_store import C1, _world
from tests.surveillance.extract.world import Writer


async def _build(url: str) -> None:
    definitions = load_definitions()
    clock = Clock()
    store = open_store(url, indexer=SearchIndexer(definitions), clock=clock)
    await store.open()
    try:
        await _world(Writer(Repository(store, definitions, Validator(definitions)), clock))
    finally:
        await store.close()


def test_extract_then_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    asyncio.run(_build(url))
    runner = CliRunner()
    folder = str(tmp_path / "extract")
    cutoff = C1.isoformat()
    done = runner.invoke(main, ["surveillance", "extract", "--database", url, "--folder", folder, "--cutoff", cutoff])
    assert done.exit_code == 0, done.output
    assert "DiagnosticReport 2" in done.output
    out = tmp_path / "r.csv"
    args = ["surveillance", "report", "--folder", folder, "--cutoff", cutoff, "--level", "hospital", "-o", str(out)]
    made = runner.invoke(main, args)
    assert made.exit_code == 0, made.output
    assert "rate,bacteraemia,Odense Universitetshospital,2026-03,<5," in out.read_text()


def test_report_beyond_the_extract_is_a_one_line_error(tmp_path: Path) -> None:
    runner = CliRunner()
    later = (C1 + timedelta(days=1)).isoformat()
    result = runner.invoke(main, ["surveillance", "report", "--folder", str(tmp_path), "--cutoff", later])
    assert result.exit_code == 1
    assert "reaches nothing" in result.output and "Traceback" not in result.output
    bad = runner.invoke(main, ["surveillance", "report", "--folder", str(tmp_path), "--cutoff", "soon"])
    assert bad.exit_code == 2
