"""A report as CSV: ``#`` header lines with the cut-off, definition, suppression rule and caveat, then rows."""

from __future__ import annotations

import csv
import io

from bindeled.surveillance.reports.model import RateTable, Report

__all__ = ["render_csv"]

_COLUMNS = (
    "table",
    "infection_or_pathogen",
    "area",
    "period",
    "episodes",
    "risk_days",
    "rate_per_10000",
    "upperbound",
    "alarm",
)


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _elements(table: RateTable) -> list[tuple[str, str, tuple[str, int, int], int | None, int | None]]:
    """(area, period, element, row index, column index) for every cell, row total, column total and the grand total."""
    out: list[tuple[str, str, tuple[str, int, int], int | None, int | None]] = []
    for i, area in enumerate(table.areas):
        out += [(area, p, ("cell", i, j), i, j) for j, p in enumerate(table.periods)]
        out.append((area, "total", ("row", i, 0), i, None))
    out += [("total", p, ("col", j, 0), None, j) for j, p in enumerate(table.periods)]
    out.append(("total", "total", ("all", 0, 0), None, None))
    return out


def _rate_rows(table: RateTable) -> list[list[str]]:
    return [
        [
            "rate",
            table.infection,
            area,
            period,
            table.episodes.shown(element),
            f"{table.risk(i, j):.1f}",
            _number(table.rate(element), 2),
            "",
            "",
        ]
        for area, period, element, i, j in _elements(table)
    ]


def render_csv(report: Report) -> bytes:
    out = io.StringIO()
    for key, value in (
        ("report", report.title),
        ("data cut-off", report.cutoff_text),
        ("definition", report.definition),
        ("outbreak detector", report.detector),
        ("suppression", report.suppression),
        ("caveat", report.caveat),
    ):
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for table in report.tables:
        writer.writerows(_rate_rows(table))
    for s in report.signals:
        shown = "<5" if 0 < s.observed < 5 else str(s.observed)
        alarm = "" if s.alarm is None else str(s.alarm).lower()
        writer.writerow(["signal", s.pathogen, s.area, s.week, shown, "", "", _number(s.upperbound, 3), alarm])
    return out.getvalue().encode("utf-8")
