"""Sweeps over frames sorted by admission, compiled with numba.

Each admission holds a handful of contacts, stays and segments, and the questions asked of them
("which contact is responsible for this stretch", "which segment holds this instant", "where does
this interval cross a unit change") are short loops over that handful. As joins they explode every
admission into all its candidate pairs and sort them by several keys; as loops over the sorted
frames they are one pass. Instants are epoch microseconds (int64); ``off`` arrays hold each
admission's first row, with one extra entry for the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["latest_versions", "locate", "split_at_segments", "timeline"]

_F = TypeVar("_F", bound=Callable[..., Any])
I64 = NDArray[np.int64]


def _compiled(func: _F) -> _F:
    """``numba.njit`` with an on-disk cache, so a new process loads machine code instead of compiling."""
    return cast(_F, numba.njit(cache=True, nogil=True)(func))


@_compiled
def timeline(
    c_off: I64, c_start: I64, c_end: I64, s_off: I64, s_start: I64, s_end: I64
) -> tuple[I64, I64, I64, I64, I64]:
    """Elementary segments of every admission and the contact and stay responsible for each.

    Contacts and stays are sorted by (admission, start, id). A segment runs between consecutive
    distinct start/end instants of the admission's contacts and stays (one zero-length segment when
    there is a single instant). Its contact is the latest-sorted one started by the segment's start
    that covers it, or else the latest-sorted one started by then; its stay the latest-sorted one
    covering it, or -1. Returns (admission index, start, end, contact row, stay row).
    """
    n_adm = c_off.size - 1
    bound = 2 * (c_start.size + s_start.size) + n_adm
    adm = np.empty(bound, np.int64)
    seg_s = np.empty(bound, np.int64)
    seg_e = np.empty(bound, np.int64)
    dept = np.empty(bound, np.int64)
    ward = np.empty(bound, np.int64)
    n = 0
    for a in range(n_adm):
        c0, c1, s0, s1 = c_off[a], c_off[a + 1], s_off[a], s_off[a + 1]
        points = np.empty(2 * (c1 - c0 + s1 - s0), np.int64)
        k = 0
        for j in range(c0, c1):
            points[k] = c_start[j]
            points[k + 1] = c_end[j]
            k += 2
        for j in range(s0, s1):
            points[k] = s_start[j]
            points[k + 1] = s_end[j]
            k += 2
        points.sort()
        distinct = np.empty(points.size, np.int64)
        m = 0
        for p in points:
            if m == 0 or p != distinct[m - 1]:
                distinct[m] = p
                m += 1
        pieces = max(m - 1, 1)
        for i in range(pieces):
            lo = distinct[i]
            hi = distinct[i + 1] if m > 1 else lo
            best, covering = -1, False
            for j in range(c0, c1):
                if c_start[j] > lo:
                    break
                covers = c_end[j] >= hi
                if covers or not covering:
                    best, covering = j, covers
            stay = -1
            for j in range(s0, s1):
                if s_start[j] > lo:
                    break
                if s_end[j] >= hi:
                    stay = j
            adm[n], seg_s[n], seg_e[n], dept[n], ward[n] = a, lo, hi, best, stay
            n += 1
    return adm[:n], seg_s[:n], seg_e[:n], dept[:n], ward[:n]


@_compiled
def locate(lo: I64, hi: I64, seg_start: I64, at: I64) -> I64:
    """Per event, the last row in ``[lo, hi)`` whose segment starts at or before ``at`` (-1: none)."""
    out = np.full(at.size, -1, np.int64)
    for i in range(at.size):
        j = np.searchsorted(seg_start[lo[i] : hi[i]], at[i], side="right")
        if j > 0:
            out[i] = lo[i] + j - 1
    return out


@_compiled
def split_at_segments(
    lo: I64, hi: I64, seg_start: I64, seg_end: I64, start: I64, end: I64, lag: int
) -> tuple[I64, I64, I64, I64]:
    """Cut each interval ``[start, end)`` whose admission's segments are rows ``[lo, hi)`` where the
    unit ``lag`` earlier changes.

    Segment ``j`` holds ``[seg_start + lag, seg_end + lag)``; the admission's first segment reaches
    back and its last forward without end. Returns (interval row, segment row, start, end) of every
    non-empty piece, in interval order and time order within an interval.
    """
    count = 0
    for i in range(lo.size):
        count += hi[i] - lo[i]
    rows = np.empty(count, np.int64)
    segs = np.empty(count, np.int64)
    p_s = np.empty(count, np.int64)
    p_e = np.empty(count, np.int64)
    n = 0
    for i in range(lo.size):
        for j in range(lo[i], hi[i]):
            s = start[i] if j == lo[i] else max(start[i], seg_start[j] + lag)
            e = end[i] if j == hi[i] - 1 else min(end[i], seg_end[j] + lag)
            if e > s:
                rows[n], segs[n], p_s[n], p_e[n] = i, j, s, e
                n += 1
    return rows[:n], segs[:n], p_s[:n], p_e[:n]


@_compiled
def latest_versions(first: I64, second: I64, received: I64) -> tuple[NDArray[np.bool_], bool]:
    """Rows whose ``received`` is the latest of their key, the key given by two independent hashes
    (64-bit hashes, viewed as int64).

    An open-addressing table on ``first`` holds each key's latest instant; ``second`` must agree
    within a slot, so two keys sharing ``first`` are noticed (the second result), and the caller
    then resolves those rows by the keys themselves.
    """
    n = first.size
    size = 1
    while size < 2 * n:
        size *= 2
    mask = size - 1
    table = np.zeros((size, 4), np.int64)  # used, first, second, latest: one cache line per probe
    slot_of = np.empty(n, np.int64)
    clash = False
    for i in range(n):
        slot = first[i] & mask
        while table[slot, 0] and table[slot, 1] != first[i]:
            slot = (slot + 1) & mask
        if not table[slot, 0]:
            table[slot, 0], table[slot, 1], table[slot, 2], table[slot, 3] = 1, first[i], second[i], received[i]
        else:
            clash = clash or table[slot, 2] != second[i]
            table[slot, 3] = max(table[slot, 3], received[i])
        slot_of[i] = slot
    keep = np.empty(n, np.bool_)
    for i in range(n):
        keep[i] = received[i] == table[slot_of[i], 3]
    return keep, clash
