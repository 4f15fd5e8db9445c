"""Write a SOR tree's resources through the store, in one transaction.

Resource ids come from the register's codes (see :mod:`bindeled.registry.fhir`), so a re-import
updates the same resources. A resource whose content did not change is not written again: a nightly
import of a mostly unchanged register must not add a history version to every organisation.
Entities that disappeared from the export are left as they are; :func:`~bindeled.registry.diff.diff_trees`
reports them.

Only :meth:`Store.transaction`, :meth:`Transaction.read` and :meth:`Transaction.update` are used,
so anything shaped like the store (the plain store, or a wrapper that adds audit) can be passed in.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ..fhir.jsonio import Resource
from ..store.base import StoredResource
from .fhir import tree_resources
from .tree import SorTree

__all__ = ["ImportResult", "SorWriter", "SorWriterTransaction", "import_into"]


class SorWriterTransaction(Protocol):
    """The part of :class:`bindeled.store.base.Transaction` the import needs."""

    async def read(self, resource_type: str, id: str) -> StoredResource | None: ...

    async def update(
        self,
        resource_type: str,
        id: str,
        resource: Resource,
        *,
        if_match: int | None = None,
        method: str = "PUT",
    ) -> tuple[StoredResource, bool]: ...


class SorWriter(Protocol):
    """The part of :class:`bindeled.store.base.Store` the import needs."""

    def transaction(self) -> AbstractAsyncContextManager[SorWriterTransaction]: ...


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _without_meta(resource: Resource) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


def _same(stored: StoredResource | None, resource: Resource) -> bool:
    if stored is None or stored.deleted:
        return False
    old = stored.resource()
    tags = (old.get("meta", {}).get("tag"), old.get("meta", {}).get("profile"))
    new_tags = (resource.get("meta", {}).get("tag"), resource.get("meta", {}).get("profile"))
    return tags == new_tags and _without_meta(old) == _without_meta(resource)


async def import_into(repo_like: SorWriter, tree: SorTree, *, on: date | None = None) -> ImportResult:
    """Create or update every Organization, Location and Endpoint of ``tree``.

    ``on`` decides which entities are ``active`` (default: the export's snapshot date, else today).
    """
    day = on or tree.snapshot_date or date.today()
    created = updated = unchanged = 0
    async with repo_like.transaction() as tx:
        for resource in tree_resources(tree, day):
            kind, rid = resource["resourceType"], resource["id"]
            if _same(await tx.read(kind, rid), resource):
                unchanged += 1
                continue
            _, was_created = await tx.update(kind, rid, resource)
            created, updated = created + was_created, updated + (not was_created)
    return ImportResult(created, updated, unchanged)
