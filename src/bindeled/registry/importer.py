"""Write a SOR tree's resources through the store, in one transaction.

Resource ids come from the register's codes (see :mod:`bindeled.registry.fhir`), so a re-import
updates the same resources. A resource whose content did not change is not written again: a nightly
import of a mostly unchanged register must not add a history version to every organisation.

Entities that disappeared from the export cannot be seen in the new tree alone. Given the previous
import (``previous``), their resources are switched off – Organization ``active: false``, Location
``inactive``, Endpoint ``off`` – rather than deleted, so references to them keep resolving. A GLN the
new export gives to another entity is left to that entity.

Only :meth:`Store.transaction`, :meth:`Transaction.read` and :meth:`Transaction.update` are used,
so anything shaped like the store (the plain store, or a wrapper that adds audit) can be passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ..fhir.jsonio import Resource
from ..store.base import StoredResource
from .fhir import entity_resources, tree_resources
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
    retired: int = 0
    """Resources of entities gone from the export, switched off (only with ``previous``)."""


_OFF = {"Organization": ("active", False), "Location": ("status", "inactive"), "Endpoint": ("status", "off")}


def _retired(previous: SorTree, tree: SorTree, day: date) -> Iterator[Resource]:
    """Resources of entities the new tree no longer has, switched off."""
    kept_glns = {e.ean.gln for e in tree if e.ean}
    for entity in previous:
        if entity.sor_code in tree:
            continue
        for resource in entity_resources(previous, entity.sor_code, day):
            if resource["resourceType"] == "Endpoint" and resource["identifier"][0]["value"] in kept_glns:
                continue
            key, value = _OFF[resource["resourceType"]]
            yield {**resource, key: value}


def _without_meta(resource: Resource) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


def _same(stored: StoredResource | None, resource: Resource) -> bool:
    if stored is None or stored.deleted:
        return False
    old = stored.resource()
    tags = (old.get("meta", {}).get("tag"), old.get("meta", {}).get("profile"))
    new_tags = (resource.get("meta", {}).get("tag"), resource.get("meta", {}).get("profile"))
    return tags == new_tags and _without_meta(old) == _without_meta(resource)


async def _write(tx: SorWriterTransaction, resource: Resource) -> bool | None:
    """Write unless unchanged; None when unchanged, else whether it was created."""
    kind, rid = resource["resourceType"], resource["id"]
    if _same(await tx.read(kind, rid), resource):
        return None
    _, created = await tx.update(kind, rid, resource)
    return created


async def import_into(
    repo_like: SorWriter, tree: SorTree, *, on: date | None = None, previous: SorTree | None = None
) -> ImportResult:
    """Create or update every Organization, Location and Endpoint of ``tree``, in one transaction.

    ``on`` decides which entities are ``active`` (default: the export's snapshot date, else today).
    ``previous`` is the tree of the last import: what it has and ``tree`` lacks is switched off.
    """
    day = on or tree.snapshot_date or date.today()
    counts = {None: 0, True: 0, False: 0}
    retired = 0
    async with repo_like.transaction() as tx:
        for resource in tree_resources(tree, day):
            counts[await _write(tx, resource)] += 1
        for resource in _retired(previous, tree, day) if previous is not None else ():
            retired += await _write(tx, resource) is not None
    return ImportResult(counts[True], counts[False], counts[None], retired)
