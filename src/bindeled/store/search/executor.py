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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ...fhir.search.cursor import Cursor
from ...fhir.search.request import Include, SearchRequest
from ..base import Clock, Dialect, Store, StoredResource, Transaction, utc_now
from ._params import Params
from .compile import COLUMNS, compile_count, compile_estimate, compile_search
from .narrowing import JoinScope

__all__ = [
    "MAX_FILL_BATCH",
    "MAX_INCLUDED",
    "MAX_ITERATE",
    "Keep",
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
MAX_FILL_BATCH = 1000
"""The most rows fetched at once while filling a page past hidden matches (batches grow up to it)."""

Run = Callable[[str, Sequence[Any]], Awaitable[list[tuple[Any, ...]]]]
Keep = Callable[[list[StoredResource]], Awaitable[list[StoredResource]]]
"""Of these matches, the ones the caller may see (the security guard's, recording nothing)."""
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
    store: Store,
    request: SearchRequest,
    *,
    tx: Transaction | None = None,
    clock: Clock = utc_now,
    scope: JoinScope | None = None,
    keep: Keep | None = None,
) -> SearchResult:
    """Execute a search; inside ``tx`` it sees that transaction's uncommitted writes.

    ``scope`` narrows what chained and ``_has`` parameters join (the caller's security scope).
    ``keep`` says which matches the caller may see (without recording anything): the page is then
    filled with visible matches only, ``_offset`` counts visible matches, and the paging cursors
    hold positions of visible matches, so neither a short page, a ``next`` link nor a cursor's
    sort values tell that a hidden match exists.
    """
    run: Run = tx.fetch_all if tx is not None else store.fetch_all
    now = clock()
    resources: list[StoredResource] = []
    positions: list[tuple[Any, ...]] = []
    more = False
    if request.summary != "count" and request.count > 0:
        rows = await _page_rows(run, store.dialect, request, now, scope, keep)
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
        total = max(await _estimate(run, request, now, scope), request.offset + len(resources) + int(more))
    elif request.total in ("accurate", "estimate") or not fetched:
        counted = compile_count(request, store.dialect, now, scope)
        total = int((await run(counted.sql, counted.params))[0][0])
    included = await _included(run, store.dialect, request, resources, keep)
    backward = request.cursor is not None and request.cursor.backward
    next_offset = request.offset + request.count if more and request.cursor is None else None
    after = previous = None
    if positions and (more or backward):
        after = Cursor(positions[-1])
    if positions and ((not first_page and not backward) or (backward and more)):
        previous = Cursor(positions[0], backward=True)
    return SearchResult(request, tuple(resources), tuple(included), total, next_offset, after, previous)


async def _page_rows(
    run: Run, dialect: Dialect, request: SearchRequest, now: datetime, scope: JoinScope | None, keep: Keep | None
) -> list[tuple[Any, ...]]:
    """Up to ``count + 1`` page rows in fetch order (one more than asked tells that a next page exists).

    With ``keep``, rows the caller may not see are passed over and more are fetched (in growing
    batches, continuing after the last row looked at) until the page is full or the matches end.
    """
    wanted = request.count + 1
    if keep is None:
        page = compile_search(request, dialect, now, limit=wanted, scope=scope)
        return (await run(page.sql, page.params))[:wanted]
    skip = request.offset if request.cursor is None else 0
    query, limit = replace(request, offset=0), skip + wanted
    found: list[tuple[Any, ...]] = []
    while True:
        page = compile_search(query, dialect, now, limit=limit, scope=scope)
        rows = await run(page.sql, page.params)
        shown = {(s.resource_type, s.id) for s in await keep([to_stored(r[:_RESOURCE_COLUMNS]) for r in rows])}
        found += [row for row in rows if (row[0], row[1]) in shown]
        if len(found) >= skip + wanted or len(rows) < limit:
            return found[skip : skip + wanted]
        backward = query.cursor is not None and query.cursor.backward
        query = replace(query, cursor=Cursor(tuple(rows[-1][_RESOURCE_COLUMNS:]), backward=backward))
        limit = max(min(limit * 4, MAX_FILL_BATCH), skip + wanted - len(found))


async def _estimate(run: Run, request: SearchRequest, now: datetime, scope: JoinScope | None) -> int:
    """``_total=estimate`` on PostgreSQL: the planner's row estimate, without counting."""
    plan = compile_estimate(request, now, scope)
    found = (await run(plan.sql, plan.params))[0][0]
    document = json.loads(found) if isinstance(found, str) else found
    return int(document[0]["Plan"]["Plan Rows"])


async def _included(
    run: Run, dialect: Dialect, request: SearchRequest, matches: list[StoredResource], keep: Keep | None = None
) -> list[StoredResource]:
    """Included resources, round by round; with ``keep``, a resource the caller may not see neither shows
    nor leads on (``:iterate`` through it would tell it exists)."""
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
        if keep is not None:
            found = await keep(found)
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
