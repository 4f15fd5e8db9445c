"""The FHIR interactions on top of a store: what create, read, update, patch, delete and history mean.

The repository checks what the REST API would otherwise have to remember everywhere: the resource
type exists, the body matches the URL, the resource is valid against the R4 definitions (and the
profiles it claims), conditional interactions match the right number of resources, and every write
happens in one store transaction. Transactions and batches (``bundles.py``) reuse these same
operations inside one store transaction, so a Bundle entry behaves exactly like the single request.

Nothing here knows about HTTP; failures are :mod:`bindeled.errors` exceptions.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from ..errors import Conflict, Gone, InvalidRequest, NotFound, PreconditionFailed, Unprocessable
from ..fhir import patch as fhir_patch
from ..fhir.definitions import Definitions
from ..fhir.jsonio import Resource
from ..fhir.references import valid_id
from ..fhir.search import Chain, Has, SearchRequest, parse_search, registry_for
from ..fhir.validation import Validator
from .base import HistoryQuery, Store, StoredResource, Transaction, run_transaction
from .guard import Guard, current_guard
from .search import SearchIndexer, SearchResult, search
from .search.custom import load_search_parameters, registration_key, sync_search_parameter
from .search.everything import everything
from .search.reindex import ReindexResult, reindex

__all__ = ["HistoryPage", "PendingWrite", "ReadMask", "Repository", "WriteResult", "WriteRule"]

HISTORY_BATCH = 100
"""Versions read per round while a history page is filled past hidden ones."""
HISTORY_MAX_ROUNDS = 50
"""Rounds one history request may read before it answers with what it found and a link onward."""


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A write about to be stored, as a resource-type business rule sees it (inside the write's transaction)."""

    tx: Transaction
    guard: Guard
    """The request's guard (its principal), or the system guard for trusted jobs."""
    interaction: str
    """``create``, ``update``, ``patch`` or ``delete``."""
    resource_type: str
    before: Resource | None
    """The current version (None on create, or when the resource is deleted or absent)."""
    after: Resource | None
    """The version to store (None on delete)."""


WriteRule = Callable[[PendingWrite], Awaitable[Resource | None]]
"""A business rule on writes (``Repository.write_rules``): raise a :mod:`bindeled.errors` error to refuse the
write, return a changed resource to store instead of ``after``, or None to let it pass unchanged."""


ReadMask = Callable[[Guard, Sequence[StoredResource]], Awaitable[Sequence[StoredResource]]]
"""A mask on reads (``Repository.read_masks``): returns the items as the request's guard may see them, e.g. with
a protected citizen's address replaced. Runs after the gate; the stored data is never changed."""


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of a history interaction."""

    versions: list[StoredResource]
    total: int | None
    """None when the caller may not learn counts."""
    next_offset: int | None
    """Where the next page starts when it is not simply ``offset + count`` (a page filled past hidden versions)."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of a write: the stored version and whether a new resource was created."""

    stored: StoredResource
    created: bool
    changed: bool = True
    """False when a conditional create found an existing match and nothing was written."""


SearchHide = Callable[[Guard, SearchRequest, Sequence[StoredResource]], Awaitable[Sequence[StoredResource]]]
"""A rule on searches (``Repository.search_hides``): the matches the caller may not learn matched *this* search
(e.g. a protected address matched by an address search). Runs while pages are filled, so a page stays full."""


class Repository:
    """FHIR interactions over a :class:`~bindeled.store.base.Store`."""

    def __init__(
        self, store: Store, definitions: Definitions, validator: Validator, *, base_url: str | None = None
    ) -> None:
        self.store = store
        self.definitions = definitions
        self.validator = validator
        self.base_url = base_url
        """This server's FHIR base URL when configured: absolute references to it search as ``Type/id``."""
        self._is_array = fhir_patch.element_is_array(definitions)
        self.write_rules: list[WriteRule] = []
        """Business rules every write passes (create, update, patch, delete; REST and transactions alike)."""
        self.read_masks: list[ReadMask] = []
        """Masks on what reads, history, searches and ``$everything`` return (not on reads inside writes)."""
        self.search_hides: list[SearchHide] = []
        """Rules that leave matches out of a search's results because the match itself would tell too much."""

    async def _masked(self, guard: Guard, items: Sequence[StoredResource]) -> list[StoredResource]:
        """The items after every read mask, in order."""
        for mask in self.read_masks:
            items = await mask(guard, items)
        return list(items)

    async def _apply_rules(
        self, tx: Transaction, interaction: str, resource_type: str, before: Resource | None, after: Resource | None
    ) -> Resource | None:
        """Run the write rules in order; each sees the resource as the previous one left it."""
        for rule in self.write_rules:
            pending = PendingWrite(tx, current_guard(), interaction, resource_type, before, after)
            after = await rule(pending) or after
        return after

    # -- checks ----------------------------------------------------------------------------------

    def check_type(self, resource_type: str) -> None:
        if not self.definitions.is_resource_type(resource_type):
            raise NotFound(f"Unknown resource type {resource_type!r}")

    @staticmethod
    def check_id(id: str) -> None:
        if not valid_id(id):
            raise InvalidRequest("The id is not a valid FHIR id ([A-Za-z0-9-.]{1,64})", location=("id",))

    def validate(self, resource: Resource, profiles: tuple[str, ...] = ()) -> None:
        """Raise :class:`Unprocessable` with every issue when the resource has errors."""
        issues = self.validator.validate(resource, profiles)
        if any(issue.is_error for issue in issues):
            raise Unprocessable("The resource is not valid", issues=[i for i in issues if i.is_error])

    def _body_for(self, resource_type: str, resource: Resource) -> Resource:
        if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
            raise InvalidRequest(
                f"The body must be a {resource_type} resource, not {resource.get('resourceType')!r}",
                location=("resourceType",),
            )
        return resource

    # -- reads -----------------------------------------------------------------------------------

    async def read(self, resource_type: str, id: str) -> StoredResource:
        self.check_type(resource_type)
        self.check_id(id)
        guard = current_guard()
        await guard.allow("read", resource_type)
        found = await self.store.read(resource_type, id)
        if found is None:
            raise NotFound(f"{resource_type}/{id} is not known")
        if found.deleted:
            raise Gone(f"{resource_type}/{id} was deleted")
        await guard.check("read", [found.resource()])
        return (await self._masked(guard, [found]))[0]

    async def vread(self, resource_type: str, id: str, version: str) -> StoredResource:
        self.check_type(resource_type)
        self.check_id(id)
        if not version.isdigit():
            raise NotFound(f"Version {version!r} of {resource_type}/{id} is not known")
        guard = current_guard()
        await guard.allow("vread", resource_type)
        found = await self.store.vread(resource_type, id, int(version))
        if found is None:
            raise NotFound(f"Version {version} of {resource_type}/{id} is not known")
        if found.deleted:
            raise Gone(f"Version {version} of {resource_type}/{id} is a deletion")
        await guard.check("vread", [found.resource()])
        return (await self._masked(guard, [found]))[0]

    async def history(self, query: HistoryQuery) -> tuple[list[StoredResource], int | None]:
        """Versions newest first, and their total (None when the guard may not reveal counts)."""
        page = await self.history_page(query)
        return page.versions, page.total

    async def history_page(self, query: HistoryQuery) -> HistoryPage:
        """A page of versions newest first, filled past versions the caller may not see.

        For a caller who sees everything the page is the store's page. For anyone else hidden versions
        are skipped and further versions read until the page is full, so a short page never tells that
        something was left out; ``next_offset`` is then the store position of the next visible version.
        """
        guard = current_guard()
        if query.resource_type is not None:
            self.check_type(query.resource_type)
            await guard.allow("history", query.resource_type)
        if query.id is not None:
            self.check_id(query.id)
            assert query.resource_type is not None
            if await self.store.read(query.resource_type, query.id) is None:
                raise NotFound(f"{query.resource_type}/{query.id} is not known")
        if guard.may_count():
            versions = await guard.visible("history", await self.store.history(query))
            return HistoryPage(await self._masked(guard, versions), await self.store.history_count(query), None)
        chosen, next_offset = await self._filled_history(guard, query)
        versions = await guard.visible("history", chosen)  # records the reads of what is shown
        return HistoryPage(await self._masked(guard, versions), None, next_offset)

    async def _filled_history(self, guard: Guard, query: HistoryQuery) -> tuple[list[StoredResource], int | None]:
        """Up to ``query.count`` visible versions from ``query.offset`` on, and where the next visible one lies."""
        chosen: list[StoredResource] = []
        position, batch_size = query.offset, max(query.count + 1, HISTORY_BATCH)
        for _round in range(HISTORY_MAX_ROUNDS):
            batch = await self.store.history(replace(query, offset=position, count=batch_size))
            seen = {id(item) for item in await guard.visible("history", batch, record=False)}
            for index, item in enumerate(batch):
                if id(item) not in seen:
                    continue
                if len(chosen) == query.count:
                    return chosen, position + index
                chosen.append(item)
            if len(batch) < batch_size:
                return chosen, None
            position += len(batch)
        return chosen, position  # looked far enough for one request: the next page goes on from here

    async def search(
        self,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        strict: bool = False,
        compartment: tuple[str, str] | None = None,
    ) -> tuple[SearchRequest, SearchResult]:
        """Search a type (or all types), optionally inside a compartment such as ``("Patient", "123")``."""
        if resource_type is not None:
            self.check_type(resource_type)
        if compartment is not None:
            self.check_type(compartment[0])
            self.check_id(compartment[1])
        guard = current_guard()
        if resource_type is not None:
            await guard.allow("search", resource_type)
        request = parse_search(
            resource_type, params, self.definitions, strict=strict, compartment=compartment, base_url=self.base_url
        )
        scope = await guard.allow_probes() if any(isinstance(c, Chain | Has) for c in request.conditions) else None
        await self._hidden(guard, request, [])  # a rule may refuse the search itself, whatever it would find
        keep = None if guard.may_count() else functools.partial(self._kept, guard, request)
        result = await search(self.store, request, scope=scope, keep=keep)
        resources = await guard.visible("search", await self._hidden(guard, request, result.resources))
        return request, replace(
            result,
            resources=tuple(await self._masked(guard, resources)),
            included=tuple(await self._masked(guard, await guard.visible("search", result.included))),
            total=result.total if guard.may_count() else None,
        )

    async def _hidden(
        self, guard: Guard, request: SearchRequest, items: Sequence[StoredResource]
    ) -> list[StoredResource]:
        for hide in self.search_hides:
            items = await hide(guard, request, items)
        return list(items)

    async def _kept(self, guard: Guard, request: SearchRequest, items: list[StoredResource]) -> list[StoredResource]:
        """What of a fetched page counts as a match for this caller (pages are filled past the rest)."""
        return await self._hidden(guard, request, await guard.visible("search", items, record=False))

    async def everything(self, compartment: str, id: str, types: tuple[str, ...] | None = None) -> list[StoredResource]:
        """``$everything``: the compartment owner, its members and what they refer to."""
        self.check_type(compartment)
        self.check_id(id)
        if types is not None:
            for type_name in types:
                self.check_type(type_name)
        guard = current_guard()
        await guard.allow("read", compartment)
        found = await everything(self.store, self.definitions, compartment, id, types=types)
        return await self._masked(guard, await guard.visible("read", found))

    # -- writes ----------------------------------------------------------------------------------

    async def _audited(self, work: Callable[[Transaction], Awaitable[WriteResult]]) -> WriteResult:
        """Run a write in a (retried) transaction whose audit records commit with it."""

        async def attempt(tx: Transaction) -> WriteResult:
            result = await work(tx)
            await current_guard().finish(201 if result.created else 200, tx)
            return result

        return await run_transaction(self.store, attempt)

    async def create(self, resource_type: str, resource: Resource, *, if_none_exist: str | None = None) -> WriteResult:
        return await self._audited(lambda tx: self.create_in(tx, resource_type, resource, if_none_exist=if_none_exist))

    async def create_in(
        self,
        tx: Transaction,
        resource_type: str,
        resource: Resource,
        *,
        if_none_exist: str | None = None,
        id: str | None = None,
    ) -> WriteResult:
        """Create (the server assigns the id; a client id in the body is ignored, as R4 says)."""
        self.check_type(resource_type)
        body = self._body_for(resource_type, resource)
        if if_none_exist is not None:
            matches = await self.matches(tx, resource_type, if_none_exist)
            if len(matches) > 1:
                raise PreconditionFailed("If-None-Exist matches more than one resource", location=("If-None-Exist",))
            if matches:
                return WriteResult(matches[0], created=False, changed=False)
        body = {k: v for k, v in body.items() if k != "id"}
        self.validate(body)
        self._check_search_parameter(resource_type, body)
        guard = current_guard()
        await guard.allow("create", resource_type)
        await guard.check("create", [body])
        body = await self._apply_rules(tx, "create", resource_type, None, body) or body
        stored = await tx.create(resource_type, body, id=id)
        self._sync_search_parameter(tx, stored)
        return WriteResult(stored, created=True)

    async def update(
        self, resource_type: str, id: str, resource: Resource, *, if_match: int | None = None
    ) -> WriteResult:
        return await self._audited(lambda tx: self.update_in(tx, resource_type, id, resource, if_match=if_match))

    async def update_in(
        self,
        tx: Transaction,
        resource_type: str,
        id: str,
        resource: Resource,
        *,
        if_match: int | None = None,
        method: str = "PUT",
    ) -> WriteResult:
        """Update, or create with the client's id when the resource does not exist yet."""
        self.check_type(resource_type)
        self.check_id(id)
        body = self._body_for(resource_type, resource)
        if "id" not in body:
            raise InvalidRequest("An update must carry the resource id in the body", location=("id",))
        if body["id"] != id:
            raise InvalidRequest("The id in the body does not match the id in the URL", location=("id",))
        self.validate(body)
        self._check_search_parameter(resource_type, body)
        guard = current_guard()
        interaction = "patch" if method == "PATCH" else "update"
        await guard.allow(interaction, resource_type)
        current = await tx.read(resource_type, id)
        await guard.check(interaction, [body] if current is None or current.deleted else [current.resource(), body])
        before = None if current is None or current.deleted else current.resource()
        body = await self._apply_rules(tx, interaction, resource_type, before, body) or body
        stored, created = await tx.update(resource_type, id, body, if_match=if_match, method=method)
        self._sync_search_parameter(tx, stored)
        return WriteResult(stored, created=created)

    async def conditional_update(
        self, resource_type: str, criteria: str, resource: Resource, *, if_match: int | None = None
    ) -> WriteResult:
        return await self._audited(
            lambda tx: self.conditional_update_in(tx, resource_type, criteria, resource, if_match=if_match)
        )

    async def conditional_update_in(
        self, tx: Transaction, resource_type: str, criteria: str, resource: Resource, *, if_match: int | None = None
    ) -> WriteResult:
        self.check_type(resource_type)
        body = self._body_for(resource_type, resource)
        matches = await self.matches(tx, resource_type, criteria)
        if len(matches) > 1:
            raise PreconditionFailed("The conditional update criteria match more than one resource")
        if not matches:
            if "id" in body:
                return await self.update_in(tx, resource_type, str(body["id"]), body, if_match=if_match)
            return await self.create_in(tx, resource_type, body)
        target = matches[0]
        if "id" in body and body["id"] != target.id:
            raise Conflict("The id in the body is not the id of the resource the criteria match", location=("id",))
        return await self.update_in(tx, resource_type, target.id, {**body, "id": target.id}, if_match=if_match)

    async def patch(
        self, resource_type: str, id: str, document: Any, *, kind: str, if_match: int | None = None
    ) -> WriteResult:
        return await self._audited(
            lambda tx: self.patch_in(tx, resource_type, id, document, kind=kind, if_match=if_match)
        )

    async def patch_in(
        self, tx: Transaction, resource_type: str, id: str, document: Any, *, kind: str, if_match: int | None = None
    ) -> WriteResult:
        """Apply a JSON Patch (``kind='json'``) or FHIRPath Patch (``kind='fhirpath'``)."""
        self.check_type(resource_type)
        self.check_id(id)
        current = await tx.read(resource_type, id)
        if current is None:
            raise NotFound(f"{resource_type}/{id} is not known")
        if current.deleted:
            raise Gone(f"{resource_type}/{id} was deleted")
        if if_match is not None and if_match != current.version_id:
            raise PreconditionFailed(f"Version {if_match} is not the current version", location=("If-Match",))
        before = current.resource()
        if kind == "json":
            after = fhir_patch.apply_json_patch(before, document)
        else:
            after = fhir_patch.apply_fhirpath_patch(before, document, self._is_array)
        return await self.update_in(tx, resource_type, id, after, if_match=current.version_id, method="PATCH")

    async def delete(self, resource_type: str, id: str, *, if_match: int | None = None) -> StoredResource | None:
        async def attempt(tx: Transaction) -> StoredResource | None:
            deleted = await self.delete_in(tx, resource_type, id, if_match=if_match)
            await current_guard().finish(204, tx)
            return deleted

        return await run_transaction(self.store, attempt)

    async def delete_in(
        self, tx: Transaction, resource_type: str, id: str, *, if_match: int | None = None
    ) -> StoredResource | None:
        """Delete (a tombstone version). Deleting what is absent or already deleted is not an error."""
        self.check_type(resource_type)
        self.check_id(id)
        guard = current_guard()
        await guard.allow("delete", resource_type)
        current = await tx.read(resource_type, id)
        if current is not None and not current.deleted:
            await guard.check("delete", [current.resource()])
            await self._apply_rules(tx, "delete", resource_type, current.resource(), None)
        deleted = await tx.delete(resource_type, id, if_match=if_match)
        if deleted is not None:
            self._sync_search_parameter(tx, deleted)
        return deleted

    async def conditional_delete(self, resource_type: str, criteria: str, *, multiple: bool = True) -> int:
        async def attempt(tx: Transaction) -> int:
            count = await self.conditional_delete_in(tx, resource_type, criteria, multiple=multiple)
            await current_guard().finish(204, tx)
            return count

        return await run_transaction(self.store, attempt)

    async def conditional_delete_in(
        self, tx: Transaction, resource_type: str, criteria: str, *, multiple: bool = True
    ) -> int:
        """Delete every match (or refuse with 412 when several match and ``multiple`` is off)."""
        self.check_type(resource_type)
        matches = await self.matches(tx, resource_type, criteria, limit=None if multiple else 2)
        if len(matches) > 1 and not multiple:
            raise PreconditionFailed("The conditional delete criteria match more than one resource")
        guard = current_guard()
        await guard.allow("delete", resource_type)
        await guard.check("delete", [m.resource() for m in matches])
        for match in matches:
            await self._apply_rules(tx, "delete", resource_type, match.resource(), None)
            deleted = await tx.delete(resource_type, match.id)
            if deleted is not None:
                self._sync_search_parameter(tx, deleted)
        return len(matches)

    # -- conditional matching -------------------------------------------------------------------

    async def matches(
        self, tx: Transaction, resource_type: str, criteria: str, *, limit: int | None = 2
    ) -> list[StoredResource]:
        """Current resources matching a search query string, seen from inside the transaction.

        On PostgreSQL a transaction-scoped advisory lock on the criteria serialises concurrent
        conditional writes with the same criteria, so two racing conditional creates cannot both create.
        """
        params = parse_qsl(criteria.lstrip("?"), keep_blank_values=True)
        if not params:
            raise PreconditionFailed("Conditional criteria must not be empty")
        if self.store.dialect == "postgresql":
            key = int.from_bytes(
                hashlib.sha256(f"{resource_type}?{criteria}".encode()).digest()[:8], "big", signed=True
            )
            await tx.fetch_all("SELECT pg_advisory_xact_lock($1)", [key])
        if limit is not None:
            params = [*params, ("_count", str(limit))]
        request = parse_search(resource_type, params, self.definitions, strict=True)
        guard = current_guard()
        await guard.allow("search", resource_type)
        scope = await guard.allow_probes() if any(isinstance(c, Chain | Has) for c in request.conditions) else None
        await self._hidden(guard, request, [])  # a rule may refuse the search itself, whatever it would find
        result = await search(self.store, request, tx=tx, scope=scope)
        return await guard.visible("search", result.resources)

    # -- custom search parameters and reindexing ------------------------------------------------

    def _check_search_parameter(self, resource_type: str, body: Resource) -> None:
        """Refuse (422) an active SearchParameter that could not be used, before anything is written."""
        if resource_type == "SearchParameter" and body.get("status") == "active":
            registry_for(self.definitions).compile_custom(body)

    def _sync_search_parameter(self, tx: Transaction, stored: StoredResource) -> None:
        """Register an active SearchParameter for its bases; take back a retired or deleted one.

        This happens inside the write's transaction, so later writes in the same transaction are
        indexed with it; if the transaction rolls back, the registration as it was is put back.
        """
        if stored.resource_type == "SearchParameter":
            registry = registry_for(self.definitions)
            key = registration_key(stored.id)
            before = registry.custom().get(key)
            body = None if stored.deleted else stored.resource()
            sync_search_parameter(registry, stored.id, body)
            tx.on_rollback(lambda: registry.restore(key, before))

    async def load_search_parameters(self) -> int:
        """Register the active SearchParameters in the store (at start-up); returns how many."""
        return await load_search_parameters(self.store, self.definitions)

    async def reindex(
        self, resource_type: str | None = None, id: str | None = None, *, batch_size: int = 500
    ) -> ReindexResult:
        """``$reindex``: rebuild the search index of all resources, one type, or one instance."""
        if resource_type is not None:
            self.check_type(resource_type)
        # Rewriting a type's index rows is a write on that type: whoever may update it may reindex it.
        await current_guard().allow("update", resource_type or "Resource")
        if id is not None:
            assert resource_type is not None
            await self.read(resource_type, id)
        indexer = getattr(self.store, "indexer", None) or SearchIndexer(self.definitions)
        return await reindex(self.store, indexer, resource_type=resource_type, id=id, batch_size=batch_size)
