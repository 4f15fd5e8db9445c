"""A report as one self-contained HTML page: tables and inline SVG bar charts drawn here, no scripts."""

from __future__ import annotations

from html import escape

from bindeled.surveillance.reports.model import RateTable, Report

__all__ = ["bar_chart_svg", "render_html"]

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #999;padding:2px 6px;text-align:right}th{background:#eee}.meta{color:#333}"
    ".caveat{font-weight:bold}.alarm{background:#fdd}"
)


def bar_chart_svg(labels: list[str], values: list[float | None], title: str) -> str:
    """Bars for ``values`` (None: masked, drawn as a gap with ``x``); deterministic text."""
    width, height, left, bottom = 40 + 28 * max(len(labels), 1), 180, 40, 40
    top = max([v for v in values if v is not None] or [1.0]) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + left}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width + left}" y2="{height - bottom}" stroke="#000"/>',
        f'<text x="2" y="12" font-size="10">{top:.1f}</text>',
    ]
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + 4 + 28 * k
        if value is None:
            parts.append(f'<text x="{x + 6}" y="{height - bottom - 4}" font-size="10">x</text>')
        else:
            h = (height - bottom - 20) * value / top
            parts.append(f'<rect x="{x}" y="{height - bottom - h:.2f}" width="20" height="{h:.2f}" fill="#4a78a8"/>')
        parts.append(
            f'<text x="{x}" y="{height - bottom + 10}" font-size="8" transform="rotate(45 {x} {height - bottom + 10})">'
            f"{escape(label)}</text>"
        )
    return "".join(parts) + "</svg>"


def _table(table: RateTable) -> str:
    head = "".join(f"<th>{escape(p)}</th>" for p in table.periods)
    rows = [f"<tr><th>area</th>{head}<th>total</th></tr>"]
    for i, area in enumerate(table.areas):
        cells = [("cell", i, j) for j in range(len(table.periods))] + [("row", i, 0)]
        rows.append(f"<tr><th>{escape(area)}</th>" + "".join(_cell(table, e) for e in cells) + "</tr>")
    totals = [("col", j, 0) for j in range(len(table.periods))] + [("all", 0, 0)]
    rows.append("<tr><th>total</th>" + "".join(_cell(table, e) for e in totals) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _cell(table: RateTable, element: tuple[str, int, int]) -> str:
    rate = table.rate(element)
    shown = table.episodes.shown(element)
    return f"<td>{escape(shown)}" + (f"<br><small>{rate:.2f}</small>" if rate is not None else "") + "</td>"


def _section(table: RateTable) -> str:
    totals = [table.rate(("col", j, 0)) for j in range(len(table.periods))]
    chart = bar_chart_svg(list(table.periods), totals, f"{table.infection}: episodes per 10,000 risk days")
    return (
        f"<h2>{escape(table.infection)}</h2>{chart}"
        "<p>Cells: counted episodes, below them the rate per 10,000 risk days.</p>" + _table(table)
    )


def _signals(report: Report) -> str:
    if not report.signals:
        return "<p>No series long enough for outbreak detection.</p>"
    alarms = [s for s in report.signals if s.alarm]
    summary = f"<p>{len(alarms)} alarms in {len(report.signals)} monitored weeks (every week is in the CSV).</p>"
    if not alarms:
        return summary
    rows = ["<tr><th>area</th><th>pathogen</th><th>week</th><th>observed</th><th>upper bound</th></tr>"]
    for s in alarms:
        shown = "&lt;5" if 0 < s.observed < 5 else str(s.observed)
        bound = "" if s.upperbound is None else f"{s.upperbound:.3f}"
        rows.append(
            f'<tr class="alarm"><td>{escape(s.area)}</td><td>{escape(s.pathogen)}</td><td>{s.week}</td>'
            f"<td>{shown}</td><td>{bound}</td></tr>"
        )
    return summary + "<table>" + "".join(rows) + "</table>"


def render_html(report: Report) -> bytes:
    meta = (
        f'<p class="meta">Data cut-off: {escape(report.cutoff_text)}<br>Definition: {escape(report.definition)}<br>'
        f"Outbreak detector: {escape(report.detector)}<br>Suppression: {escape(report.suppression)}</p>"
        f'<p class="caveat">{escape(report.caveat)}</p>'
    )
    body = "".join(_section(t) for t in report.tables)
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(report.title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(report.title)}</h1>{meta}{body}"
        f"<h2>Outbreak signals</h2>{_signals(report)}</body></html>\n"
    )
    return page.encode("utf-8")
