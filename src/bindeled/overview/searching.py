"""Small helpers for reading a citizen's resources through the repository, page by page.

Searches run under whatever guard is current: the request's (so the gate filters what the caller may
not see and records what it shows) or the system guard (trusted internal look-ups).
"""

from __future__ import annotations

from ..store.base import StoredResource
from ..store.repository import Repository

__all__ = ["search_all"]

_PAGE = 500
_MAX_PAGES = 20


async def search_all(repo: Repository, resource_type: str, params: list[tuple[str, str]]) -> list[StoredResource]:
    """Every visible match of a search (up to 10,000), following the pages."""
    found: list[StoredResource] = []
    offset = 0
    for _ in range(_MAX_PAGES):
        paged = [*params, ("_count", str(_PAGE)), ("_offset", str(offset))]
        _request, result = await repo.search(resource_type, paged)
        found += result.resources
        if result.next_offset is None:
            break
        offset = result.next_offset
    return found
