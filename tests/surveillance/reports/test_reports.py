"""Reports: rates per area and period with suppression, outbreak signals, identical bytes on re-run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from bindeled.errors import InvalidRequest
from bindeled.surveillance.haiba import run
from bindeled.surveillance.reports import RULE, build_report, render, write_reports
from tests.surveillance.reports.frames import CUTOFF, synthetic_extract


@pytest.fixture(scope="module")
def extract():  # type: ignore[no-untyped-def]
    return synthetic_extract()


def _rows(data: bytes) -> list[dict[str, str]]:
    lines = [line for line in data.decode().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@pytest.mark.parametrize("level", ["region", "hospital", "municipality"])
def test_totals_match_the_engine_and_small_counts_are_masked(extract, level: str) -> None:  # type: ignore[no-untyped-def]
    report = build_report(extract, level=level, period="month")
    rows = _rows(render(report, "csv")[0])
    engine = run(extract.haiba, as_of=CUTOFF).episodes.filter(pl.col("counted"))
    for infection in ("bacteraemia", "uti", "cdi"):
        grand = next(
            r
            for r in rows
            if r["table"] == "rate"
            and r["infection_or_pathogen"] == infection
            and r["area"] == "total"
            and r["period"] == "total"
        )
        expected = engine.filter(pl.col("infection") == infection).height
        assert grand["episodes"] == (str(expected) if expected == 0 or expected >= 5 else "<5")
    cells = [r for r in rows if r["table"] == "rate"]
    assert all(r["episodes"] not in {"1", "2", "3", "4"} for r in cells)
    assert all(r["rate_per_10000"] == "" for r in cells if r["episodes"] in ("<5", "x"))
    assert any(r["episodes"] == "<5" for r in cells)


def test_every_format_states_cutoff_definition_rule_and_caveat(extract) -> None:  # type: ignore[no-untyped-def]
    report = build_report(extract, level="region", period="week")
    csv_text = render(report, "csv")[0].decode()
    html = render(report, "html")[0].decode()
    for text in (csv_text, html):
        assert report.cutoff_text in text
        assert report.definition.startswith("haiba/2019")
        assert report.definition in text
        assert "must not be used to rank hospitals" in text
    assert RULE in csv_text
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    pdf = render(report, "pdf")[0]
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("fmt", ["csv", "html", "pdf"])
def test_rerun_for_the_same_cutoff_gives_identical_bytes(fmt: str) -> None:
    first = render(build_report(synthetic_extract(), level="hospital", period="week"), fmt)[0]
    second = render(build_report(synthetic_extract(), level="hospital", period="week"), fmt)[0]
    assert first == second


def test_definition_variant_is_recorded(extract) -> None:  # type: ignore[no-untyped-def]
    report = build_report(extract, level="region", period="month", definition_name="ecdc")
    assert report.definition.startswith("ecdc/")
    assert report.definition in render(report, "csv")[0].decode()


def test_outbreak_signals_cover_each_pathogen_and_area(extract) -> None:  # type: ignore[no-untyped-def]
    report = build_report(extract, level="region", period="week")
    assert {s.pathogen for s in report.signals} <= {
        "Escherichia coli",
        "Staphylococcus aureus",
        "Klebsiella pneumoniae",
    }
    assert {s.area for s in report.signals} <= {"DK-82", "DK-83", "unknown"}
    assert report.signals
    rows = [r for r in _rows(render(report, "csv")[0]) if r["table"] == "signal"]
    assert len(rows) == len(report.signals)
    assert all(r["episodes"] not in {"1", "2", "3", "4"} for r in rows)


def test_unknown_level_period_and_format_are_refused(extract) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRequest, match="level"):
        build_report(extract, level="ward", period="month")
    with pytest.raises(InvalidRequest, match="period"):
        build_report(extract, level="region", period="day")
    with pytest.raises(InvalidRequest, match="format"):
        render(build_report(extract, level="region", period="month"), "xlsx")


def test_write_reports_writes_every_level_period_and_format(extract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    written = write_reports(extract, tmp_path)
    assert len(written) == 3 * 2 * 3
    assert all(p.stat().st_size > 0 for p in written)


def test_public_names() -> None:
    from bindeled.surveillance import reports

    assert sorted(reports.__all__) == sorted(
        [
            "CAVEAT",
            "FORMATS",
            "LEVELS",
            "PERIODS",
            "RULE",
            "RateTable",
            "Report",
            "Signal",
            "Suppressed",
            "build_report",
            "measure",
            "measure_reports",
            "render",
            "store_fhir",
            "suppress",
            "write_reports",
        ]
    )


def test_measure_reports_never_carry_a_masked_count(extract) -> None:  # type: ignore[no-untyped-def]
    from bindeled.surveillance.reports import measure_reports

    report = build_report(extract, level="hospital", period="month")
    resources = measure_reports(report)
    measures = [r for r in resources if r["resourceType"] == "Measure"]
    assert [m["id"] for m in measures] == ["haiba-bacteraemia-haiba", "haiba-uti-haiba", "haiba-cdi-haiba"]
    strata = [
        s for r in resources if r["resourceType"] == "MeasureReport" for s in r["group"][0]["stratifier"][0]["stratum"]
    ]
    masked = [s for s in strata if "count" not in s["population"][0]]
    assert masked and all(s["population"][0]["extension"][0]["valueCode"] == "masked" for s in masked)
    assert all("measureScore" not in s for s in masked)
    assert all(s["population"][0]["count"] not in (1, 2, 3, 4) for s in strata if "count" in s["population"][0])
    first = next(r for r in resources if r["resourceType"] == "MeasureReport")
    assert first["period"] == {"start": "2026-01-01", "end": "2026-01-31"}
    assert first["measure"].endswith("|" + report.definition)
    assert measure_reports(report) == resources  # same cut-off, same resources (ids included)


def _pdf_text(data: bytes) -> str:
    """The page content streams of a reportlab PDF (ASCII85 + Flate), decoded (enough to find plain strings)."""
    import base64
    import re
    import zlib

    chunks = re.findall(rb"\nstream\r?\n(.*?)endstream", data, flags=re.S)
    out = []
    for chunk in chunks:
        raw = b"".join(chunk.split()).removesuffix(b"~>")
        out.append(zlib.decompress(base64.a85decode(raw)).decode("latin-1"))
    return "\n".join(out)


def test_pdf_states_cutoff_definition_and_alarms(extract) -> None:  # type: ignore[no-untyped-def]
    report = build_report(extract, level="hospital", period="week")
    text = _pdf_text(render(report, "pdf")[0])
    assert report.cutoff_text in text and report.definition in text
    assert "must not be used to rank hospitals" in text
    html = render(report, "html")[0].decode()
    alarms = [s for s in report.signals if s.alarm]
    assert html.count('class="alarm"') == len(alarms)
    for s in alarms:
        assert f"{s.week}  {s.area}  {s.pathogen}" in text
