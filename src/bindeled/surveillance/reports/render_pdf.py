"""A report as PDF (reportlab): the same content as the HTML page, byte-identical for the same report.

reportlab's ``invariant`` mode fixes the creation date and the document id that would otherwise
change on every run; nothing else in the file depends on the clock.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from bindeled.surveillance.reports.model import RateTable, Report

__all__ = ["render_pdf"]

_MARGIN = 40
_LINE = 11


class _Pages:
    """A cursor that writes lines and starts a new page when the current one is full."""

    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.width, self.height = A4
        self.y = self.height - _MARGIN

    def need(self, space: float) -> None:
        if self.y - space < _MARGIN:
            self.c.showPage()
            self.y = self.height - _MARGIN

    def line(self, text: str, font: str = "Helvetica", size: int = 8) -> None:
        self.need(_LINE)
        self.c.setFont(font, size)
        self.c.drawString(_MARGIN, self.y, text[:150])
        self.y -= _LINE

    def wrapped(self, text: str, width: int = 120) -> None:
        words, current = text.split(), ""
        for word in words:
            if len(current) + len(word) + 1 > width:
                self.line(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        if current:
            self.line(current)

    def bars(self, labels: list[str], values: list[float | None]) -> None:
        height = 90
        self.need(height + 20)
        base = self.y - height
        top = max([v for v in values if v is not None] or [1.0]) or 1.0
        step = min(24.0, (self.width - 2 * _MARGIN) / max(len(labels), 1))
        self.c.setFont("Helvetica", 6)
        self.c.drawString(_MARGIN, self.y, f"max {top:.1f} per 10,000 risk days")
        for k, (label, value) in enumerate(zip(labels, values, strict=True)):
            x = _MARGIN + k * step
            if value is None:
                self.c.drawString(x + 2, base + 2, "x")
            else:
                self.c.setFillColorRGB(0.29, 0.47, 0.66)
                self.c.rect(x, base, step * 0.7, (height - 15) * value / top, stroke=0, fill=1)
                self.c.setFillColorRGB(0, 0, 0)
            self.c.drawString(x, base - 8, label[-3:])
        self.y = base - 20


def _table(pages: _Pages, table: RateTable) -> None:
    pages.line(f"{table.infection}", "Helvetica-Bold", 11)
    totals = [table.rate(("col", j, 0)) for j in range(len(table.periods))]
    pages.bars(list(table.periods), totals)
    pages.line("area / period: episodes (rate per 10,000 risk days)", "Helvetica-Oblique")
    for i, area in enumerate(table.areas):
        cells = [("cell", i, j) for j in range(len(table.periods))] + [("row", i, 0)]
        labels = [*table.periods, "total"]
        text = "  ".join(f"{p}: {table.episodes.shown(e)}{_rate(table, e)}" for p, e in zip(labels, cells, strict=True))
        pages.wrapped(f"{area} — {text}", 140)
    cols = [("col", j, 0) for j in range(len(table.periods))] + [("all", 0, 0)]
    labels = [*table.periods, "total"]
    pages.wrapped(
        "total — "
        + "  ".join(f"{p}: {table.episodes.shown(e)}{_rate(table, e)}" for p, e in zip(labels, cols, strict=True)),
        140,
    )
    pages.y -= _LINE


def _rate(table: RateTable, element: tuple[str, int, int]) -> str:
    rate = table.rate(element)
    return "" if rate is None else f" ({rate:.2f})"


def render_pdf(report: Report) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(report.title)
    canvas.setAuthor("bindeled surveillance")
    canvas.setCreator("bindeled")
    canvas.setSubject(f"cut-off {report.cutoff_text}; {report.definition}")
    pages = _Pages(canvas)
    pages.line(report.title, "Helvetica-Bold", 14)
    pages.line(f"Data cut-off: {report.cutoff_text}")
    pages.line(f"Definition: {report.definition}")
    pages.line(f"Outbreak detector: {report.detector}")
    pages.wrapped(f"Suppression: {report.suppression}")
    pages.wrapped(report.caveat)
    pages.y -= _LINE
    for table in report.tables:
        _table(pages, table)
    pages.line("Outbreak signals (alarms)", "Helvetica-Bold", 11)
    alarms = [s for s in report.signals if s.alarm]
    for s in alarms:
        shown = "<5" if 0 < s.observed < 5 else str(s.observed)
        pages.line(f"{s.week}  {s.area}  {s.pathogen}: observed {shown}, upper bound {s.upperbound or 0:.3f}")
    if not alarms:
        pages.line(f"No alarms in {len(report.signals)} monitored weeks.")
    canvas.save()
    return buffer.getvalue()
