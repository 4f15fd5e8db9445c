"""Run a :class:`SearchRequest` against a store: the page, the total, and included resources.

The page is fetched with one row more than asked, so whether a next page exists is known without
counting. The total is counted only when the client asks for it (``_total=accurate`` or
``estimate``, ``_summary=count``, ``_count=0``), or is known for free (the last page). On PostgreSQL
``_total=estimate`` takes the planner's row estimate instead of counting (never less than the
matches already seen); SQLite has no such estimate and counts. Included resources (``_include``,
``_revinclude``, with ``:iterate`` up to :data:`MAX_ITERATE` rounds) are fetched after the page,
at most :data:`MAX_INCLUDED` of them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...fhir.search.cursor import Cursor
from ...fhir.search.request import Include, SearchRequest
from ..base import Clock, Dialect, Store, StoredResource, Transaction, utc_now
from ._params import Params
from .compile import COLUMNS, compile_count, compile_estimate, compile_search

__all__ = [
    "MAX_INCLUDED",
    "MAX_ITERATE",
    "Run",
    "SearchResult",
    "fetch_current",
    "forward_references",
    "search",
    "to_stored",
]

_RESOURCE_COLUMNS = 7
"""The leading columns of a page row that make the StoredResource; the sort position follows."""

MAX_ITERATE = 4
MAX_INCLUDED = 1000

Run = Callable[[str, Sequence[Any]], Awaitable[list[tuple[Any, ...]]]]
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SearchResult:
    request: SearchRequest
    resources: tuple[StoredResource, ...]
    """The matches on this page, in order."""
    included: tuple[StoredResource, ...] = ()
    """Resources added by ``_include`` / ``_revinclude`` (search mode ``include``)."""
    total: int | None = None
    next_offset: int | None = None
    """The offset of the next page, None on the last page (and on pages reached by a cursor)."""
    next_cursor: Cursor | None = None
    """Where the next page starts (after this page's last match); None on the last page."""
    previous_cursor: Cursor | None = None
    """Where the previous page ends (before this page's first match); None on the first page."""


def to_stored(row: Sequence[Any]) -> StoredResource:
    """A ``resources`` row (see :data:`~bindeled.store.search.compile.COLUMNS`) as a StoredResource."""
    rtype, rid, version, updated, deleted, method, body = row
    moment = datetime.fromisoformat(updated) if isinstance(updated, str) else updated
    return StoredResource(rtype, rid, int(version), moment, bool(deleted), method, bytes(body))


async def search(
    store: Store, request: SearchRequest, *, tx: Transaction | None = None, clock: Clock = utc_now
) -> SearchResult:
    """Execute a search; inside ``tx`` it sees that transaction's uncommitted writes."""
    run: Run = tx.fetch_all if tx is not None else store.fetch_all
    now = clock()
    resources: list[StoredResource] = []
    positions: list[tuple[Any, ...]] = []
    more = False
    if request.summary != "count" and request.count > 0:
        page = compile_search(request, store.dialect, now, limit=request.count + 1)
        rows = (await run(page.sql, page.params))[: request.count + 1]
        more = len(rows) > request.count
        rows = rows[: request.count]
        if request.cursor is not None and request.cursor.backward:
            rows.reverse()
        resources = [to_stored(row[:_RESOURCE_COLUMNS]) for row in rows]
        positions = [tuple(row[_RESOURCE_COLUMNS:]) for row in rows]
    total = None
    fetched = request.summary != "count" and request.count > 0
    first_page = request.cursor is None and request.offset == 0
    last_page = fetched and not more and request.cursor is None and (bool(resources) or request.offset == 0)
    if request.total == "none" and fetched:
        total = None
    elif last_page:
        total = request.offset + len(resources)
    elif request.total == "estimate" and store.dialect == "postgresql":
        total = max(await _estimate(run, request, now), request.offset + len(resources) + int(more))
    elif request.total in ("accurate", "estimate") or not fetched:
        counted = compile_count(request, store.dialect, now)
        total = int((await run(counted.sql, counted.params))[0][0])
    included = await _included(run, store.dialect, request, resources)
    backward = request.cursor is not None and request.cursor.backward
    next_offset = request.offset + request.count if more and request.cursor is None else None
    after = previous = None
    if positions and (more or backward):
        after = Cursor(positions[-1])
    if positions and ((not first_page and not backward) or (backward and more)):
        previous = Cursor(positions[0], backward=True)
    return SearchResult(request, tuple(resources), tuple(included), total, next_offset, after, previous)


async def _estimate(run: Run, request: SearchRequest, now: datetime) -> int:
    """``_total=estimate`` on PostgreSQL: the planner's row estimate, without counting."""
    plan = compile_estimate(request, now)
    found = (await run(plan.sql, plan.params))[0][0]
    document = json.loads(found) if isinstance(found, str) else found
    return int(document[0]["Plan"]["Plan Rows"])


async def _included(
    run: Run, dialect: Dialect, request: SearchRequest, matches: list[StoredResource]
) -> list[StoredResource]:
    seen: set[Key] = {(r.resource_type, r.id) for r in matches}
    out: list[StoredResource] = []
    frontier = matches
    for round_ in range(MAX_ITERATE + 1):
        forward = [i for i in request.includes if round_ == 0 or i.iterate]
        reverse = [i for i in request.revincludes if round_ == 0 or i.iterate]
        if not frontier or not (forward or reverse) or len(out) >= MAX_INCLUDED:
            break
        keys: list[Key] = []
        for inc in forward:
            keys += await forward_references(run, dialect, inc, frontier, iterating=round_ > 0)
        for inc in reverse:
            keys += await _reverse(run, dialect, inc, frontier)
        new = [k for k in dict.fromkeys(keys) if k not in seen][: MAX_INCLUDED - len(out)]
        found = await fetch_current(run, dialect, new)
        seen.update(new)
        out += found
        frontier = found
    return out


def _by_type(resources: list[StoredResource]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for r in resources:
        grouped[r.resource_type].append(r.id)
    return grouped


async def forward_references(
    run: Run, dialect: Dialect, inc: Include, frontier: list[StoredResource], *, iterating: bool
) -> list[Key]:
    keys: list[Key] = []
    for rtype, ids in _by_type(frontier).items():
        if inc.source_type not in (rtype, "Resource") and not (iterating and inc.param is None):
            continue
        p = Params(dialect)
        sql = (
            "SELECT DISTINCT t.target_type, t.target_id FROM search_reference t "
            f"WHERE t.res_type = {p(rtype)} AND t.res_id IN ({p.many(ids)}) AND t.target_id IS NOT NULL"
        )
        if inc.param is not None:
            sql += f" AND t.param = {p(inc.param.code)}"
        if inc.target_type is not None:
            sql += f" AND t.target_type = {p(inc.target_type)}"
        keys += [(str(a), str(b)) for a, b in await run(sql, p.values)]
    return keys


async def _reverse(run: Run, dialect: Dialect, inc: Include, frontier: list[StoredResource]) -> list[Key]:
    keys: list[Key] = []
    for rtype, ids in _by_type(frontier).items():
        if inc.target_type is not None and inc.target_type != rtype:
            continue
        p = Params(dialect)
        sql = (
            "SELECT DISTINCT t.res_type, t.res_id FROM search_reference t "
            f"WHERE t.target_type = {p(rtype)} AND t.target_id IN ({p.many(ids)})"
        )
        if inc.param is not None:
            sql += f" AND t.res_type = {p(inc.source_type)} AND t.param = {p(inc.param.code)}"
        keys += [(str(a), str(b)) for a, b in await run(sql, p.values)]
    return keys


async def fetch_current(run: Run, dialect: Dialect, keys: list[Key]) -> list[StoredResource]:
    """The current, non-deleted versions of ``keys`` (missing ones left out), in the order of ``keys``."""
    found: dict[Key, StoredResource] = {}
    live = "r.deleted = 0" if dialect == "sqlite" else "NOT r.deleted"
    for rtype, ids in _group(keys).items():
        p = Params(dialect)
        sql = (
            f"SELECT {COLUMNS} FROM resources r "
            f"WHERE r.res_type = {p(rtype)} AND r.res_id IN ({p.many(ids)}) AND {live}"
        )
        for row in await run(sql, p.values):
            stored = to_stored(row)
            found[(stored.resource_type, stored.id)] = stored
    return [found[k] for k in keys if k in found]


def _group(keys: list[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for rtype, rid in keys:
        grouped[rtype].append(rid)
    return grouped
