"""Which past weeks serve as reference values for week t: by index, or by date for dated series.

"Same week b years ago" is ``t - freq * b`` for indexed series. For dated series it is the date b
calendar years back, moved to the same weekday as week t (the nearer of the two candidates), as
the R package does; 29 February maps to 1 March in non-leap years, like R's date arithmetic.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from numpy.typing import NDArray

from .series import WeeklySeries

Array = NDArray[np.float64]


def years_back(day: dt.date, years: int) -> dt.date:
    """The same calendar date ``years`` earlier (29 Feb → 1 Mar when the year is not leap)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 3, 1)


def _weekday(day: dt.date) -> int:
    """R's ``format(d, "%w")``: 0 = Sunday."""
    return day.isoweekday() % 7


def _nearest_same_weekday(day: dt.date, weekday: int) -> dt.date:
    """Shift ``day`` by at most 3 days to ``weekday`` (forward on a tie is never needed: 7 is odd)."""
    forward = (weekday - _weekday(day)) % 7
    backward = (_weekday(day) - weekday) % 7
    return day + dt.timedelta(days=forward if forward < backward else -backward)


def classic_reference_weeks(series: WeeklySeries, t: int, b: int, w: int) -> list[int]:
    """``algo.farrington``: 1-based weeks ``t - freq*i ± w`` for i = b..1, dropping those before week 1."""
    if series.dates is None:
        weeks = [t - series.freq * i + d for i in range(b, 0, -1) for d in range(-w, w + 1)]
        return [k for k in weeks if k > 0]
    dates = series.dates
    origin = dates[t - 1]
    position = {day: i + 1 for i, day in enumerate(dates)}
    found: list[int] = []
    for j in range(1, b + 1):
        centre = years_back(origin, j)
        for d in range(-w, w + 1):
            day = _nearest_same_weekday(centre + dt.timedelta(weeks=d), _weekday(origin))
            if day in position:
                found.append(position[day])
    return found


def flexible_reference_points(series: WeeklySeries, t: int, b: int) -> list[int]:
    """``farringtonFlexible``: week t and its b yearly predecessors, newest first (1-based).

    Raises ``ValueError`` when one does not exist, as R stops ("decrease 'b' or postpone 'range'").
    """
    if series.dates is None:
        weeks = [t - series.freq * i for i in range(b + 1)]
        if min(weeks) < 1:
            raise ValueError(f"week {t}: reference weeks before the first week; decrease b or postpone range")
        return weeks
    dates = series.dates
    origin = dates[t - 1]
    position = {day: i + 1 for i, day in enumerate(dates)}
    found: list[int] = []
    for j in range(b + 1):
        centre = years_back(origin, j)
        shift = _weekday(centre) - _weekday(origin)
        a = centre - dt.timedelta(days=shift)
        other = a + dt.timedelta(days=-7 if a > centre else 7)
        day = a if abs((a - centre).days) <= abs((other - centre).days) else other
        if day not in position:
            raise ValueError(f"week {t}: reference date {day} is not in the series; decrease b or postpone range")
        found.append(position[day])
    return sorted(found, reverse=True)


def block_levels(n: int, points: list[int], w: int, periods: int) -> Array:
    """Seasonal factor level per week (``NaN`` = not used): windows get level ``periods``, the gaps
    between windows are cut into ``periods - 1`` near-equal blocks (remainder to the first ones)."""
    levels = np.full(n, np.nan)
    now = points[0]
    levels[max(now - w, 1) - 1 : now] = periods
    for i in range(len(points) - 1):
        ref = points[i + 1]
        levels[ref - w - 1 : ref + w] = periods
        if periods == 1:
            continue
        gap = points[i] - 2 * w - 1 - ref
        if gap < periods - (2 * w + 1):
            raise ValueError("noPeriods is too large for the gaps between reference windows")
        size, rest = divmod(gap, periods - 1)
        lengths = [size + (1 if j < rest else 0) for j in range(periods - 1)]
        start = ref + w + 1
        for j, length in enumerate(lengths, start=1):
            levels[start - 1 : start - 1 + length] = j
            start += length
    return levels
