"""The content of one surveillance report, independent of its format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bindeled.surveillance.reports.suppression import RULE, Suppressed

__all__ = ["CAVEAT", "RateTable", "Report", "Signal"]

CAVEAT = (
    "The numbers reflect sampling and coding practice and must not be used to rank hospitals. SYNTHETIC data "
    "where marked so."
)


@dataclass(frozen=True, slots=True)
class RateTable:
    """Counted episodes (suppressed) and risk days of one infection, areas × periods."""

    infection: str
    areas: tuple[str, ...]
    periods: tuple[str, ...]
    episodes: Suppressed
    risk_days: tuple[tuple[float, ...], ...]

    def risk(self, i: int | None, j: int | None) -> float:
        """Risk days of a cell, a row total (``j`` None), a column total (``i`` None) or the grand total."""
        rows = range(len(self.areas)) if i is None else (i,)
        cols = range(len(self.periods)) if j is None else (j,)
        return sum(self.risk_days[r][c] for r in rows for c in cols)

    def rate(self, element: tuple[str, int, int]) -> float | None:
        """Episodes per 10,000 risk days; None where the count is masked or there is no risk time."""
        kind, a, b = element
        i = a if kind in ("cell", "row") else None
        j = b if kind == "cell" else (a if kind == "col" else None)
        days = self.risk(i, j)
        if self.episodes.is_masked(element) or days <= 0:
            return None
        return self.episodes.value(element) / days * 10_000


@dataclass(frozen=True, slots=True)
class Signal:
    """One monitored week of an outbreak detector on weekly counts of one pathogen in one area."""

    area: str
    pathogen: str
    week: str
    observed: int
    upperbound: float | None
    alarm: bool | None


@dataclass(frozen=True, slots=True)
class Report:
    level: str
    period: str
    cutoff: datetime
    definition: str
    detector: str
    tables: tuple[RateTable, ...]
    signals: tuple[Signal, ...]
    suppression: str = RULE
    caveat: str = CAVEAT

    @property
    def title(self) -> str:
        every = "week" if self.period == "week" else "month"
        return f"Hospital-acquired infections per {self.level} and {every}"

    @property
    def cutoff_text(self) -> str:
        return self.cutoff.isoformat(timespec="seconds")
