"""``run``: one HAIBA pass over an extract, and its result.

The engine is Polars: the rules are composed as typed Python expressions (no SQL strings to build),
extracts are scanned lazily from Parquet with the cut-off and code-list filters pushed into the scan,
and the anchored episode recursion and calendar splits run as vectorised passes. The per-admission
sweeps (unit timeline, unit of an instant, risk time cut at unit changes) and version resolution are
compiled loops over sorted frames (``_kernels``): measured on a national year, DuckDB's QUALIFY and
Polars' joins and windows were both slower for them. Every output frame
carries the definition version and the cut-off, so a published number names the rules and the data
it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from bindeled.errors import InvalidRequest
from bindeled.surveillance.haiba import admissions as adm
from bindeled.surveillance.haiba.definition import INFECTIONS, Definition, EpisodeRule, InfectionRule
from bindeled.surveillance.haiba.definition import definition as named_definition
from bindeled.surveillance.haiba.episodes import attribute, calendar_labels, classify, first_positives, number_episodes
from bindeled.surveillance.haiba.frames import HaibaData
from bindeled.surveillance.haiba.positives import POSITIVE_COLUMNS, lab_filter, positives
from bindeled.surveillance.haiba.rates import rates
from bindeled.surveillance.haiba.risktime import bounds, risk_pieces
from bindeled.surveillance.haiba.sorted_groups import row_in_group

__all__ = ["HaibaResult", "run"]

_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Inputs:
    contacts: pl.DataFrame
    admissions: pl.DataFrame
    segments: pl.DataFrame
    lab: pl.DataFrame
    persons: pl.DataFrame
    deaths: pl.DataFrame


@dataclass(frozen=True, slots=True)
class HaibaResult:
    """Episodes, risk-time pieces and admissions of one run; rates on demand."""

    definition: Definition
    as_of: datetime
    period: tuple[datetime, datetime]
    admissions: pl.DataFrame
    """admission, patient, start, end: the merged contact periods."""
    episodes: pl.DataFrame
    """One row per episode: first positive, class, unit, calendar labels, ``counted`` in rates."""
    risk: pl.DataFrame
    """Risk time cut at unit changes, ISO weeks and months; ``risk_us`` is exact microseconds."""
    risk_totals: pl.DataFrame
    """``risk_us`` summed per infection, unit and calendar interval: what rates sum, a few hundred
    thousand rows instead of millions of pieces."""

    @property
    def version(self) -> str:
        return self.definition.version

    def rates(self, level: str | Sequence[str] = "national") -> pl.DataFrame:
        """Rates per 10,000 risk days by a named level (see ``LEVELS``) or a list of columns."""
        return _stamp(rates(self.episodes, self.risk_totals, level), self.definition, self.as_of)


def _stamp(frame: pl.DataFrame, definition: Definition, as_of: datetime) -> pl.DataFrame:
    return frame.with_columns(definition=pl.lit(definition.version), as_of=pl.lit(as_of).dt.convert_time_zone("UTC"))


def _prepare(data: HaibaData, d: Definition, rules: tuple[InfectionRule, ...], as_of: datetime) -> _Inputs:
    cut = data.as_of(as_of, lab_filter(rules, d.codelists))
    contacts, stays, lab, persons, deaths = pl.collect_all(
        [cut.contacts, cut.stays, cut.lab_results, cut.persons, cut.deaths]
    )
    contacts, admissions = adm.merge_contacts(contacts, gap=d.merge_gap, open_end=as_of)
    segs = adm.segments(contacts, admissions, stays, open_end=as_of)
    persons = persons.group_by("patient").agg(pl.col("birth_date").min())
    deaths = deaths.group_by("patient").agg(pl.col("died_at").min())
    return _Inputs(contacts, admissions, segs, lab, persons, deaths)


def _episodes(inputs: _Inputs, rule: InfectionRule, windows: pl.DataFrame, d: Definition) -> pl.DataFrame:
    pos = positives(inputs.lab, inputs.persons, rule, d.codelists, d.timezone)
    if rule.episode.per_admission:
        ha = classify(pos, windows, rule).filter(pl.col("class") == "HA").sort("sampled_at", "sample_id")
        firsts = ha.unique("admission", keep="first", maintain_order=True).select(POSITIVE_COLUMNS)
        numbered = number_episodes(firsts, EpisodeRule(rule.episode.days))
        kept = numbered.unique(["patient", "episode"], keep="first", maintain_order=True)
        eps = first_positives(kept.with_columns(episode=row_in_group(["patient"])), rule.episode)
    else:
        eps = first_positives(number_episodes(pos, rule.episode), rule.episode)
    eps = classify(eps, windows, rule)
    return attribute(eps, inputs.admissions, inputs.segments, rule.attribution_lag)


def _count(eps: pl.DataFrame, b: pl.DataFrame, rule: InfectionRule) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Mark counted episodes; return them and each admission's stop instant (its first counted one)."""
    cand = eps.filter((pl.col("class") == "HA") & ~pl.col("recurrent")).join(b, on=["admission", "patient"])
    cand = cand.filter(pl.col("sampled_at").is_between(pl.col("risk_from"), pl.col("risk_until")))
    stops = cand.group_by("admission").agg(pl.col("sampled_at").min().alias("stop_at"))
    if rule.risk_ends_at_episode:
        cand = cand.join(stops, on="admission").filter(pl.col("sampled_at") == pl.col("stop_at"))
    else:
        stops = stops.clear()
    flags = cand.select("patient", "episode", counted=pl.lit(value=True))
    eps = eps.join(flags, on=["patient", "episode"], how="left").with_columns(pl.col("counted").fill_null(value=False))
    return eps, stops


def _one(
    inputs: _Inputs, rule: InfectionRule, d: Definition, as_of: datetime, period: tuple[datetime, datetime]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    windows = adm.windows(inputs.admissions, rule, d.timezone)
    eps = _episodes(inputs, rule, windows, d)
    b = bounds(windows, inputs.persons, inputs.deaths, rule, cutoff=as_of, period=period, timezone=d.timezone)
    eps, stops = _count(eps, b, rule)
    intervals = b.join(stops, on="admission", how="left").select(
        "admission", "patient", start=pl.col("risk_from"), end=pl.min_horizontal("risk_until", "stop_at")
    )
    intervals = intervals.filter(pl.col("end") > pl.col("start"))
    pieces, totals = risk_pieces(intervals, inputs.segments, rule.attribution_lag, d.timezone)
    pieces = pieces.with_columns(
        infection=pl.lit(rule.infection),
        risk_us=(pl.col("end") - pl.col("start")).dt.total_microseconds(),
    )
    eps = eps.with_columns(*calendar_labels("sampled_at", d.timezone))
    return eps, pieces, totals.with_columns(infection=pl.lit(rule.infection))


def run(
    data: HaibaData,
    *,
    as_of: datetime,
    definition: Definition | None = None,
    period: tuple[datetime, datetime] | None = None,
    infections: Sequence[str] | None = None,
) -> HaibaResult:
    """Find, classify and attribute episodes and risk time with the data known at ``as_of``.

    ``period`` (default: everything up to ``as_of``) limits the risk time and the counted episodes.
    ``definition`` defaults to Danish HAIBA (``definition("haiba")``).
    """
    if as_of.tzinfo is None:
        raise InvalidRequest("as_of must be time-zone aware", location=("as_of",))
    d = definition or named_definition()
    wanted = tuple(infections) if infections is not None else INFECTIONS
    rules = tuple(d.rule(name) for name in wanted)
    span = period or (_EARLIEST, as_of)
    inputs = _prepare(data, d, rules, as_of)
    found = [_one(inputs, rule, d, as_of, span) for rule in rules]
    episodes = pl.concat([e for e, _, _ in found], how="diagonal_relaxed")
    risk = pl.concat([p for _, p, _ in found], how="diagonal_relaxed")
    totals = pl.concat([t for _, _, t in found], how="diagonal_relaxed")
    return HaibaResult(
        definition=d,
        as_of=as_of,
        period=span,
        admissions=_stamp(inputs.admissions, d, as_of),
        episodes=_stamp(episodes.sort("infection", "patient", "episode"), d, as_of),
        risk=_stamp(risk, d, as_of),
        risk_totals=totals,
    )
