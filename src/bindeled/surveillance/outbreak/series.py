"""The input every detector takes: one weekly count series with optional population and dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["WeeklySeries"]


@dataclass(frozen=True, slots=True, eq=False)
class WeeklySeries:
    """Counts per week for one pathogen and area, in time order (R's ``sts`` object, one column).

    Missing weeks are ``NaN`` in ``observed``. Week ``t`` (1-based, as in R) is ``observed[t - 1]``.
    """

    observed: NDArray[np.float64]
    population: NDArray[np.float64]
    """Population (or population fraction) per week; ones when unknown, as R defaults."""
    freq: int = 52
    """Weeks per year; the reference "same week b years ago" is ``t - freq * b``."""
    start: tuple[int, int] = (2000, 1)
    """(year, epoch in year) of the first week; CUSUM's ``m = "glm"`` seasonal model uses the epoch."""
    dates: tuple[dt.date, ...] | None = None
    """Week dates when the series is date based (R's ``epochAsDate``): reference weeks are then
    found by calendar date (same weekday, nearest the same date b years ago) instead of by index."""

    @classmethod
    def of(
        cls,
        observed: Sequence[float | int | None] | NDArray[np.float64],
        *,
        population: Sequence[float] | NDArray[np.float64] | None = None,
        freq: int = 52,
        start: tuple[int, int] = (2000, 1),
        dates: Sequence[dt.date] | None = None,
    ) -> WeeklySeries:
        """Build a series, checking that every column has one value per week."""
        obs = np.array([np.nan if v is None else float(v) for v in observed], dtype=np.float64)
        n = obs.shape[0]
        pop = np.ones(n) if population is None else np.asarray(population, dtype=np.float64)
        if pop.shape != (n,):
            raise ValueError(f"population has {pop.shape[0]} values for {n} weeks")
        if dates is not None and len(dates) != n:
            raise ValueError(f"dates has {len(dates)} values for {n} weeks")
        if freq <= 0:
            raise ValueError("freq must be positive")
        return cls(obs, pop, freq, start, None if dates is None else tuple(dates))

    def __len__(self) -> int:
        return int(self.observed.shape[0])

    @property
    def epoch_as_date(self) -> bool:
        """Whether reference weeks are found by date (R's ``epochAsDate``)."""
        return self.dates is not None
