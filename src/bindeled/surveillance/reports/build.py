"""Build a :class:`Report` from an extract: HAIBA rates per area and period, outbreak signals per pathogen.

Areas are regions and hospitals (where the episode and the risk time are attributed) or the patient's
home municipality; periods are ISO weeks or calendar months in local time. Outbreak signals run EARS C1
(R ``surveillance``'s ``earsC``, baseline 7 weeks) on weekly counts of hospital-acquired episodes per
first organism and area, over every week from the first to the cut-off's, with ``minSigma = 1`` so
that on the sparse series of one hospital a single case on a zero baseline is not an alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from bindeled.errors import InvalidRequest
from bindeled.surveillance.extract import Extract
from bindeled.surveillance.haiba import HaibaResult, definition, run
from bindeled.surveillance.haiba.definition import INFECTIONS
from bindeled.surveillance.outbreak import EarsControl, WeeklySeries, ears_c
from bindeled.surveillance.reports.model import RateTable, Report, Signal
from bindeled.surveillance.reports.suppression import suppress

__all__ = ["LEVELS", "PERIODS", "build_report"]

LEVELS = ("region", "municipality", "hospital")
PERIODS = ("week", "month")
_DAY_US = 86_400_000_000
_EARS = EarsControl(method="C1", baseline=7, minSigma=1.0)
"""R's ``earsC`` with ``minSigma = 1``: on a flat zero baseline a single case would otherwise alarm."""


def _label(period: str) -> pl.Expr:
    if period == "week":
        return pl.format("{}-W{}", pl.col("iso_year"), pl.col("iso_week").cast(pl.String).str.pad_start(2, "0"))
    return pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.pad_start(2, "0"))


def _with_area(frame: pl.DataFrame, level: str, municipalities: pl.DataFrame, period: str) -> pl.DataFrame:
    if level == "municipality":
        frame = frame.join(municipalities, on="patient", how="left")
    return frame.with_columns(area=pl.col(level).fill_null("unknown"), label=_label(period))


def _table(infection: str, episodes: pl.DataFrame, risk: pl.DataFrame) -> RateTable:
    eps = episodes.filter(pl.col("infection") == infection).group_by("area", "label").agg(n=pl.len())
    days = risk.filter(pl.col("infection") == infection).group_by("area", "label").agg(pl.col("risk_us").sum())
    areas = tuple(sorted(set(eps["area"]) | set(days["area"])))
    periods = tuple(sorted(set(eps["label"]) | set(days["label"])))
    n = {(a, p): int(c) for a, p, c in eps.iter_rows()}
    d = {(a, p): int(us) / _DAY_US for a, p, us in days.iter_rows()}
    counts = [[n.get((a, p), 0) for p in periods] for a in areas]
    risk_days = tuple(tuple(d.get((a, p), 0.0) for p in periods) for a in areas)
    return RateTable(infection, areas, periods, suppress(counts), risk_days)


def _weeks(first: datetime, last: datetime) -> list[datetime]:
    monday = first - timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def _signals(result: HaibaResult, level: str, municipalities: pl.DataFrame) -> tuple[Signal, ...]:
    tz = result.definition.timezone
    eps = _with_area(result.episodes.filter(pl.col("class") == "HA"), level, municipalities, "week")
    if eps.is_empty():
        return ()
    local = pl.col("sampled_at").dt.convert_time_zone(tz).dt.replace_time_zone(None)
    eps = eps.with_columns(
        pathogen=pl.col("organisms").str.split(";").list.first(), week=local.dt.truncate("1w")
    ).filter(pl.col("pathogen").is_not_null())
    end = result.as_of.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    weeks = _weeks(eps["week"].min(), end)  # type: ignore[arg-type]
    if len(weeks) < _EARS.baseline + 1:
        return ()
    out: list[Signal] = []
    for (area, pathogen), group in sorted(eps.group_by("area", "pathogen"), key=lambda g: (str(g[0][0]), str(g[0][1]))):
        per_week = dict(group.group_by("week").agg(n=pl.len()).iter_rows())
        observed = [per_week.get(w, 0) for w in weeks]
        for week in ears_c(WeeklySeries.of(observed), _EARS).weeks:
            bound = None if week.upperbound != week.upperbound else round(week.upperbound, 6)
            label = weeks[week.t - 1].strftime("%G-W%V")
            out.append(Signal(str(area), str(pathogen), label, int(week.observed), bound, week.alarm))
    return tuple(out)


def build_report(
    extract: Extract, *, level: str, period: str, definition_name: str = "haiba", infections: Sequence[str] = INFECTIONS
) -> Report:
    """The report of ``extract`` as of its cut-off, per ``level`` and ``period``."""
    if level not in LEVELS:
        raise InvalidRequest(f"unknown level {level!r}; known: {', '.join(LEVELS)}", location=("level",))
    if period not in PERIODS:
        raise InvalidRequest(f"unknown period {period!r}; known: {', '.join(PERIODS)}", location=("period",))
    d = definition(definition_name)
    result = run(extract.haiba, as_of=extract.cutoff, definition=d, infections=infections)
    episodes = _with_area(result.episodes.filter(pl.col("counted")), level, extract.municipalities, period)
    risk = _with_area(result.risk, level, extract.municipalities, period)
    tables = tuple(_table(i, episodes, risk) for i in infections)
    signals = _signals(result, level, extract.municipalities)
    return Report(level, period, extract.cutoff, d.version, "earsC C1 (baseline 7, minSigma 1)", tables, signals)
