"""Weekly series in and detection results out as CSV, in the shapes the CLI documents.

Input: an ``observed`` column and optional ``year``, ``epoch_in_year``, ``population`` and ``date``
columns, one row per week in order. Output: one row per monitored week with ``t`` (1-based),
``observed``, ``upperbound`` and ``alarm`` (``true``/``false``, empty for NA), then the method's
internals. Numbers are written with ``repr`` precision so that a round trip loses nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
from collections.abc import Iterable

from .result import DetectionResult, WeekResult
from .series import WeeklySeries

__all__ = ["read_series", "write_result"]

_NA = {"", "NA", "na", "NaN", "nan"}
_EXTRAS = ("expected", "score", "pvalue", "phi", "trend", "trend_coefficient", "mu0", "statistic")


class SeriesFormatError(ValueError):
    """The input CSV does not describe a weekly series; the message says where."""


def _number(text: str, row: int, column: str) -> float:
    if text.strip() in _NA:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise SeriesFormatError(f"row {row}: column {column!r} is not a number") from None


def _date(text: str, row: int) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SeriesFormatError(f"row {row}: column 'date' is not an ISO date (YYYY-MM-DD)") from None


def read_series(text: str) -> WeeklySeries:
    """Parse the input CSV; raises ``SeriesFormatError`` with the row and column at fault."""
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "observed" not in fields:
        raise SeriesFormatError("the input CSV needs an 'observed' column")
    rows = [{(k or "").strip(): (v or "") for k, v in r.items()} for r in reader]
    if not rows:
        raise SeriesFormatError("the input CSV has no weeks")
    observed = [_number(r["observed"], i + 2, "observed") for i, r in enumerate(rows)]
    if any(v < 0 or (not math.isnan(v) and v != int(v)) for v in observed):
        raise SeriesFormatError("'observed' must hold non-negative whole counts")
    population = (
        [_number(r["population"], i + 2, "population") for i, r in enumerate(rows)] if "population" in fields else None
    )
    dates = [_date(r["date"], i + 2) for i, r in enumerate(rows)] if "date" in fields else None
    if dates is not None and any(b <= a for a, b in itertools.pairwise(dates)):
        raise SeriesFormatError("'date' must increase from row to row")
    start = (2000, 1)
    if "year" in fields and "epoch_in_year" in fields:
        start = (int(_number(rows[0]["year"], 2, "year")), int(_number(rows[0]["epoch_in_year"], 2, "epoch_in_year")))
    return WeeklySeries.of(observed, population=population, start=start, dates=dates)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NA"
        return repr(value)
    return str(value)


def _row(week: WeekResult, extras: Iterable[str]) -> list[str]:
    base = [str(week.t), _cell(week.observed), _cell(week.upperbound), _cell(week.alarm)]
    return base + [_cell(getattr(week, name)) for name in extras]


def write_result(result: DetectionResult) -> str:
    """Render a result as the output CSV; internals columns appear when the method computes them."""
    extras = [name for name in _EXTRAS if any(getattr(w, name) is not None for w in result.weeks)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["t", "observed", "upperbound", "alarm", *extras])
    for week in result.weeks:
        writer.writerow(_row(week, extras))
    return out.getvalue()
