"""The storage interface: one Protocol, two backends (SQLite and PostgreSQL).

A store keeps every version of every resource. The current version of each resource lives in
``resources``; every version, tombstones included, lives in ``resource_history``. Version ids are
1, 2, 3, … per resource, without gaps, also under concurrent writers. ``meta.versionId`` and
``meta.lastUpdated`` are always set by the store, inside the write transaction.

Writes happen inside :meth:`Store.transaction`; everything written in one transaction (resources,
their search-index rows, later audit and outbox rows) commits or rolls back together. Reads outside
a transaction see committed data only.

Search indexes are the business of an :class:`Indexer`: for each written resource it returns rows
per index table, which the backend writes in the same transaction. The SQL that queries those tables
is built elsewhere (``store/search``) and run through :meth:`Store.fetch_all` /
:meth:`Transaction.fetch_all`, with placeholders in the backend's own style (:attr:`Store.dialect`).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import anyio

from ..errors import Conflict
from ..fhir import jsonio

if TYPE_CHECKING:
    from .migrate import Migration

__all__ = [
    "Clock",
    "Dialect",
    "HistoryQuery",
    "IndexRows",
    "Indexer",
    "Store",
    "StoredResource",
    "Transaction",
    "TransientConflict",
    "UndoLog",
    "run_transaction",
    "utc_now",
]

T = TypeVar("T")

Dialect = Literal["sqlite", "postgresql"]

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware. Injected so tests can travel in time."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One stored version of a resource (or a tombstone, when ``deleted``)."""

    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    deleted: bool
    method: str
    """The interaction that made this version: ``POST``, ``PUT``, ``PATCH`` or ``DELETE``."""
    body: bytes
    """The resource's JSON with ``meta`` set, exactly as stored; empty for a tombstone."""

    def resource(self) -> jsonio.Resource:
        """The resource as a JSON tree (decimals exact)."""
        return jsonio.decode_stored(self.body)

    @property
    def etag(self) -> str:
        return f'W/"{self.version_id}"'


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Which versions a history interaction asks for; newest first."""

    resource_type: str | None = None
    """None: system history."""
    id: str | None = None
    """None: type (or system) history."""
    since: datetime | None = None
    """Only versions with ``last_updated >= since`` (``_since``)."""
    at: datetime | None = None
    """Only versions current at that instant (``_at``)."""
    until: datetime | None = None
    """Only versions with ``last_updated <= until``: fixes the result set for stable paging."""
    count: int = 50
    offset: int = 0


IndexRows = Mapping[str, tuple[Sequence[str], Sequence[Sequence[Any]]]]
"""Index table name → (column names, rows). ``res_type`` and ``res_id`` columns are added by the store."""


class Indexer(Protocol):
    """Turns a resource into search-index rows (see ``store/search``)."""

    def rows(self, resource_type: str, resource: jsonio.Resource) -> IndexRows:
        """The index rows for the current version of a resource."""
        ...

    def tables(self) -> Sequence[str]:
        """Every index table, so a delete can clear a resource's rows from all of them."""
        ...


class Transaction(Protocol):
    """Reads and writes that commit together. Obtained from :meth:`Store.transaction`."""

    async def read(self, resource_type: str, id: str) -> StoredResource | None:
        """The current version (or tombstone), locked against concurrent writers until commit."""
        ...

    async def create(self, resource_type: str, resource: jsonio.Resource, id: str | None = None) -> StoredResource:
        """Store version 1 of a new resource. A server id (UUID) is assigned when ``id`` is None.

        Raises :class:`~bindeled.errors.Conflict` when a resource with that id exists (also deleted).
        The caller's dict is not modified.
        """
        ...

    async def update(
        self,
        resource_type: str,
        id: str,
        resource: jsonio.Resource,
        *,
        if_match: int | None = None,
        method: str = "PUT",
    ) -> tuple[StoredResource, bool]:
        """Store a new current version; create it (version 1, or next after a tombstone) if absent.

        Returns the stored version and whether it was created. ``if_match`` is the version the client
        expects to replace; a mismatch raises :class:`~bindeled.errors.PreconditionFailed`.
        """
        ...

    async def delete(self, resource_type: str, id: str, *, if_match: int | None = None) -> StoredResource | None:
        """Write a tombstone version. Returns None when there was nothing current to delete."""
        ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query (e.g. compiled search SQL) inside this transaction.

        Placeholders are numbered, ``$1, $2, …``, on both backends (SQLite also takes ``?``/``?1``).
        """
        ...

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` if this transaction does not commit: for in-process state changed with its writes."""
        ...


class UndoLog:
    """In-process changes to take back when a transaction rolls back, last first."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], None]] = []

    def add(self, step: Callable[[], None]) -> None:
        self._steps.append(step)

    def run(self) -> None:
        steps, self._steps = self._steps[::-1], []
        for step in steps:
            step()


class Store(Protocol):
    """A resource store. Open it once at start-up (which runs migrations), close it at shutdown."""

    dialect: Dialect

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def migrate(self, *, dry_run: bool = False) -> list[Migration]:
        """Apply pending migrations and return them; ``dry_run`` only lists them.

        ``open`` runs this unless the store was made with ``migrate=False``.
        """
        ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction: commits on normal exit, rolls back on any exception."""
        ...

    async def read(self, resource_type: str, id: str) -> StoredResource | None:
        """The current version or tombstone; None if the resource never existed."""
        ...

    async def vread(self, resource_type: str, id: str, version_id: int) -> StoredResource | None: ...

    async def read_many(self, keys: Sequence[tuple[str, str]]) -> list[StoredResource]:
        """Current, non-deleted versions of many resources, in the order of ``keys`` (missing ones left out)."""
        ...

    async def history(self, query: HistoryQuery) -> list[StoredResource]: ...

    async def history_count(self, query: HistoryQuery) -> int:
        """How many versions the query matches, ignoring count and offset."""
        ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query on committed data."""
        ...


class TransientConflict(Conflict):
    """A transaction lost a race the backend could not settle by itself (a deadlock, a serialization
    failure, a lock wait that timed out). Everything in it was rolled back; running it again may succeed,
    which :func:`run_transaction` does."""


async def run_transaction(
    store: Store, work: Callable[[Transaction], Awaitable[T]], *, attempts: int = 5, backoff: float = 0.01
) -> T:
    """Run ``work`` in a transaction, again (up to ``attempts`` times) when it fails with :class:`TransientConflict`.

    A context manager cannot repeat its body, so writes that may meet a deadlock (several resources
    in one transaction, in an order other writers do not share) go through here. ``work`` must be
    safe to repeat: it sees a fresh transaction each time. Waits grow exponentially from ``backoff``
    seconds, with jitter so that the losers of one race do not meet again.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with store.transaction() as tx:
                return await work(tx)
        except TransientConflict:
            if attempt >= attempts:
                raise
        await anyio.sleep(backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
    raise ValueError("attempts must be at least 1")
