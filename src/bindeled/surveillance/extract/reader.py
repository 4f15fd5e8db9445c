"""Resource versions out of the store's history, as system work, between two instants.

Reads ``resource_history`` through the repository's history interaction (type history with
``_since`` and a fixed upper bound, so paging is stable while new versions arrive). Every version
counts, whatever its security labels: this is statutory surveillance, not a clinical view.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from bindeled.errors import NotFound
from bindeled.store.base import HistoryQuery, StoredResource
from bindeled.store.repository import Repository

__all__ = ["as_of", "versions"]


async def versions(
    repo: Repository, resource_type: str, since: datetime | None, until: datetime, *, page: int = 5000
) -> AsyncIterator[StoredResource]:
    """Versions of ``resource_type`` with ``since < lastUpdated <= until``, newest first.

    The caller must hold a guard (``with as_system():``). Each page of the history interaction sorts
    the whole range again (offset paging), so large pages keep a first, full extract affordable;
    later runs read only what arrived since the previous cut-off.
    """
    offset = 0
    while True:
        query = HistoryQuery(resource_type=resource_type, since=since, until=until, count=page, offset=offset)
        batch, _ = await repo.history(query)
        for stored in batch:
            if since is None or stored.last_updated > since:
                yield stored
        if len(batch) < page:
            return
        offset += page


async def as_of(repo: Repository, resource_type: str, id: str, at: datetime) -> StoredResource | None:
    """The version of one resource that was current at ``at`` (None when there was none, or a tombstone)."""
    query = HistoryQuery(resource_type=resource_type, id=id, at=at, count=1)
    try:
        found, _ = await repo.history(query)
    except NotFound:
        return None
    return found[0] if found and not found[0].deleted else None
