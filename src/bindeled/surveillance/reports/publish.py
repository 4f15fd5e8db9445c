"""One entry point per output: a report in a format, and all reports of an extract written to a folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from bindeled.errors import InvalidRequest
from bindeled.surveillance.extract import Extract
from bindeled.surveillance.reports.build import LEVELS, PERIODS, build_report
from bindeled.surveillance.reports.model import Report
from bindeled.surveillance.reports.render_csv import render_csv
from bindeled.surveillance.reports.render_html import render_html
from bindeled.surveillance.reports.render_pdf import render_pdf

__all__ = ["FORMATS", "render", "write_reports"]

FORMATS: Mapping[str, tuple[str, Callable[[Report], bytes]]] = {
    "csv": ("text/csv; charset=utf-8", render_csv),
    "html": ("text/html; charset=utf-8", render_html),
    "pdf": ("application/pdf", render_pdf),
}
"""Format → (media type, renderer). ``fhir`` (Measure/MeasureReport) is in ``measure.py``."""


def render(report: Report, fmt: str) -> tuple[bytes, str]:
    """The report's bytes in ``fmt`` and their media type."""
    if fmt not in FORMATS:
        raise InvalidRequest(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}, fhir", location=("format",))
    media, renderer = FORMATS[fmt]
    return renderer(report), media


def write_reports(extract: Extract, folder: Path, *, definition_name: str = "haiba") -> list[Path]:
    """Every level × period × format of ``extract`` as files named ``haiba-<level>-<period>.<format>``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for level in LEVELS:
        for period in PERIODS:
            report = build_report(extract, level=level, period=period, definition_name=definition_name)
            for fmt in FORMATS:
                path = folder / f"haiba-{level}-{period}.{fmt}"
                path.write_bytes(render(report, fmt)[0])
                written.append(path)
    return written
