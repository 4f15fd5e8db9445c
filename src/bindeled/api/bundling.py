"""Bundles the API returns: search sets, histories and paging links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

from ..fhir.jsonio import Resource
from ..fhir.search.cursor import CURSOR_PARAM
from ..store.base import StoredResource

__all__ = ["history_bundle", "instant", "page_links", "searchset_bundle"]


def instant(moment: datetime) -> str:
    """An R4 instant in UTC with microseconds, the form the store writes into ``meta.lastUpdated``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _full_url(base: str, stored: StoredResource) -> str:
    return f"{base}/{stored.resource_type}/{stored.id}"


def page_links(
    base_url: str,
    path: str,
    params: Sequence[tuple[str, str]],
    offset: int,
    count: int,
    total: int | None,
    has_more: bool,
    *,
    cursors: tuple[str | None, str | None] | None = None,
    filled: bool = False,
    next_offset: int | None = None,
) -> list[Resource]:
    """``self``, ``first``, ``previous`` and ``next`` links.

    With ``cursors`` (a search: the tokens of the previous and the next page, None where there is
    none) the links page by sort position, so they stay right while resources are written; without
    (a history, which is anchored by ``_at``/``_since``) they page by offset. A page ``filled`` past hidden
    versions links ``next`` to ``next_offset`` (None: no next page) and has no ``previous``: where that
    page began is not known without reading back.
    """
    kept = [(k, v) for k, v in params if k not in ("_offset", "_count", CURSOR_PARAM)]

    def url(extra: list[tuple[str, str]]) -> str:
        query = urlencode([*kept, ("_count", str(count)), *extra])
        return f"{base_url}/{path}?{query}" if path else f"{base_url}?{query}"

    if cursors is not None:
        given = [(k, v) for k, v in params if k in ("_offset", CURSOR_PARAM)]
        links: list[Resource] = [{"relation": "self", "url": url(given)}, {"relation": "first", "url": url([])}]
        previous_token, next_token = cursors
        if previous_token is not None:
            links.append({"relation": "previous", "url": url([(CURSOR_PARAM, previous_token)])})
        if next_token is not None:
            links.append({"relation": "next", "url": url([(CURSOR_PARAM, next_token)])})
        return links

    links = [
        {"relation": "self", "url": url([("_offset", str(offset))])},
        {"relation": "first", "url": url([("_offset", "0")])},
    ]
    if filled:
        if next_offset is not None:
            links.append({"relation": "next", "url": url([("_offset", str(next_offset))])})
        return links
    if offset > 0:
        links.append({"relation": "previous", "url": url([("_offset", str(max(0, offset - count)))])})
    if has_more or (total is not None and offset + count < total):
        links.append({"relation": "next", "url": url([("_offset", str(offset + count))])})
    return links


def searchset_bundle(
    base_url: str,
    matches: Sequence[Resource | StoredResource],
    included: Sequence[Resource | StoredResource],
    total: int | None,
    links: list[Resource],
    outcome: Resource | None = None,
) -> Resource:
    """A ``searchset`` Bundle; entries are given as stored versions or already-shaped resources."""
    entries: list[Resource] = []
    for mode, items in (("match", matches), ("include", included)):
        for item in items:
            resource = item.resource() if isinstance(item, StoredResource) else item
            entries.append(
                {
                    "fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
                    "resource": resource,
                    "search": {"mode": mode},
                }
            )
    if outcome is not None:
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    return _bundle("searchset", total, links, entries)


def history_bundle(
    base_url: str, versions: Sequence[StoredResource], total: int | None, links: list[Resource]
) -> Resource:
    """A ``history`` Bundle, newest first, deletions as entries without a resource."""
    entries: list[Resource] = []
    for stored in versions:
        entry: Resource = {"fullUrl": _full_url(base_url, stored)}
        if not stored.deleted:
            entry["resource"] = stored.resource()
        method = "POST" if stored.method == "POST" else ("DELETE" if stored.deleted else "PUT")
        url = stored.resource_type if method == "POST" else f"{stored.resource_type}/{stored.id}"
        if stored.method == "PATCH":
            method = "PATCH"
        entry["request"] = {"method": method, "url": url}
        status = (
            "201 Created" if stored.method == "POST" or (stored.version_id == 1 and not stored.deleted) else "200 OK"
        )
        entry["response"] = {
            "status": "204 No Content" if stored.deleted else status,
            "etag": stored.etag,
            "lastModified": instant(stored.last_updated),
        }
        entries.append(entry)
    return _bundle("history", total, links, entries)


def _bundle(kind: str, total: int | None, links: list[Resource], entries: list[Resource]) -> Resource:
    """A new Bundle of ``kind`` with its total, links and entries (``entry`` left out when there are none)."""
    bundle: Resource = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(datetime.now(UTC))},
        "type": kind,
    }
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return bundle
