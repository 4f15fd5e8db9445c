"""Plots as inline SVG, drawn in Python: no plotting library, nothing fetched by the browser.

Every plot has ``role="img"`` and a ``<title>``; the pages always show the same numbers as a table
too, so the plot is never the only way to read them. Text is escaped; colours meet AA contrast on
white.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "control_chart", "timeline"]

_W, _H, _LEFT, _TOP, _RIGHT = 720, 0, 150, 30, 20
_LANE = 36
_INK, _GRID, _MARK = "#1f2933", "#9aa5b1", "#0b5cad"


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def timeline(points: Sequence[tuple[str, str, str]], lanes: Sequence[tuple[str, str]], title: str) -> Markup:
    """Appointments on one time axis, one lane per sector.

    ``points`` are (``YYYY-MM-DD HH:MM``, lane key, label); ``lanes`` are (key, heading) in order.
    """
    parsed = [(_parse(when), lane, label) for when, lane, label in points]
    dated = [(when, lane, label) for when, lane, label in parsed if when is not None]
    height = _TOP + _LANE * len(lanes) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" viewBox="0 0 {_W} {height}" '
        f'aria-labelledby="timeline-title"><title id="timeline-title">{escape(title)}</title>'
    ]
    for index, (_key, heading) in enumerate(lanes):
        y = _TOP + _LANE * index + _LANE // 2
        out.append(f'<text x="8" y="{y + 4}" fill="{_INK}" font-size="13">{escape(heading)}</text>')
        out.append(f'<line x1="{_LEFT}" y1="{y}" x2="{_W - _RIGHT}" y2="{y}" stroke="{_GRID}" stroke-width="1"/>')
    if dated:
        first = min(d for d, _, _ in dated)
        last = max(d for d, _, _ in dated)
        span = max((last - first).total_seconds(), 1.0)
        keys = [key for key, _ in lanes]
        for when, lane, label in dated:
            x = _LEFT + (_W - _LEFT - _RIGHT) * (when - first).total_seconds() / span
            row = keys.index(lane) if lane in keys else len(keys) - 1
            y = _TOP + _LANE * row + _LANE // 2
            out.append(
                f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{_MARK}"><title>'
                f"{escape(when.strftime('%Y-%m-%d %H:%M'))} {escape(label)}</title></circle>"
            )
        axis_y = _TOP + _LANE * len(lanes) + 16
        out.append(f'<text x="{_LEFT}" y="{axis_y}" fill="{_INK}" font-size="12">{first:%Y-%m-%d}</text>')
        out.append(
            f'<text x="{_W - _RIGHT}" y="{axis_y}" fill="{_INK}" font-size="12" text-anchor="end">'
            f"{last:%Y-%m-%d}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(bars: Sequence[tuple[str, float | None]], title: str, *, percent: bool = True) -> Markup:
    """Horizontal bars, one per label; a None value (suppressed) is drawn as an empty, marked bar."""
    height = _TOP + 24 * len(bars) + 10
    top = max((v for _, v in bars if v is not None), default=0.0) or 1.0
    width = _W - _LEFT - _RIGHT - 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" viewBox="0 0 {_W} {height}" '
        f'aria-labelledby="bars-title"><title id="bars-title">{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(bars):
        y = _TOP + 24 * index
        out.append(f'<text x="8" y="{y + 14}" fill="{_INK}" font-size="12">{escape(label[:22])}</text>')
        if value is None:
            out.append(f'<text x="{_LEFT}" y="{y + 14}" fill="{_INK}" font-size="12">*</text>')
            continue
        length = width * value / top
        text = f"{value * 100:.1f} %" if percent else f"{value:g}"
        out.append(f'<rect x="{_LEFT}" y="{y + 2}" width="{length:.1f}" height="16" fill="{_MARK}"/>')
        out.append(f'<text x="{_LEFT + length + 6:.1f}" y="{y + 14}" fill="{_INK}" font-size="12">{text}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def control_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    upper: Sequence[float | None],
    centre: float | None,
    title: str,
    ident: str = "cc",
) -> Markup:
    """A trend line with its centre line and upper control limit; points above the limit are drawn as squares.

    ``None`` values (suppressed or no risk time) leave a gap in the line.
    """
    height, bottom = 220, 40
    plot_h = height - _TOP - bottom
    width = _W - _LEFT - _RIGHT
    shown = [v for v in (*values, centre) if v is not None]
    top = (max(shown) * 1.5 if shown else 0.0) or 1.0
    upper = [None if u is None else min(u, top) for u in upper]  # a limit far off the scale is drawn at its edge
    step = width / max(len(labels) - 1, 1)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" viewBox="0 0 {_W} {height}" '
        f'aria-labelledby="{ident}-title"><title id="{ident}-title">{escape(title)}</title>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - _RIGHT}" y2="{_TOP + plot_h}" stroke="{_GRID}"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 4}" fill="{_INK}" font-size="12" text-anchor="end">{top:.1f}</text>',
        f'<text x="{_LEFT - 6}" y="{_TOP + plot_h + 4}" fill="{_INK}" font-size="12" text-anchor="end">0</text>',
    ]
    if centre is not None:
        out.append(
            f'<line x1="{_LEFT}" y1="{y(centre):.1f}" x2="{_W - _RIGHT}" y2="{y(centre):.1f}" '
            f'stroke="{_INK}" stroke-dasharray="2 3"/>'
        )
    limit = [(i, u) for i, u in enumerate(upper) if u is not None]
    if limit:
        points = " ".join(f"{_LEFT + step * i:.1f},{y(u):.1f}" for i, u in limit)
        out.append(f'<polyline points="{points}" fill="none" stroke="#9b1c1c" stroke-dasharray="6 4"/>')
    segment: list[str] = []
    for i, value in enumerate([*values, None]):
        if value is None:
            if len(segment) > 1:
                out.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{_MARK}" stroke-width="2"/>')
            segment = []
            continue
        segment.append(f"{_LEFT + step * i:.1f},{y(value):.1f}")
    for i, value in enumerate(values):
        if value is None:
            continue
        x, cy = _LEFT + step * i, y(value)
        above = upper[i] is not None and value > (upper[i] or 0)
        tip = f"<title>{escape(labels[i])}: {value:.2f}</title>"
        if above:
            out.append(f'<rect x="{x - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" fill="#9b1c1c">{tip}</rect>')
        else:
            out.append(f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="4" fill="{_MARK}">{tip}</circle>')
    if labels:
        out.append(f'<text x="{_LEFT}" y="{height - 12}" fill="{_INK}" font-size="12">{escape(labels[0])}</text>')
        out.append(
            f'<text x="{_W - _RIGHT}" y="{height - 12}" fill="{_INK}" font-size="12" text-anchor="end">'
            f"{escape(labels[-1])}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
