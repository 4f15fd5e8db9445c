"""The notifier: tails the store's global history and notifies matching Subscriptions within a second.

Every ``subscription_poll_seconds`` the worker reads the versions written since its high-water mark
(minus ``subscription_lookback_seconds``, so a transaction that committed late is still seen; versions
already handled are remembered), refreshes the Subscriptions in force, and for each new version and
each Subscription of its type asks :mod:`.matching` whether it matches and whether the owner may see
it. A rest-hook notification is first *claimed* in ``subscription_notification`` (one row per
Subscription and resource version), so with several server processes exactly one of them sends it;
a websocket ping goes out from every process to the sockets bound in it.

Status is the server's: ``requested`` becomes ``active`` when the worker takes the Subscription on (a
second after it was written); ``subscription_max_failures`` failed deliveries in a row set ``error`` with the reason in
``error`` (no data in it); a passed ``end`` sets ``off``; a Subscription without a recorded owner (not
created through ``/fhir/Subscription``) or with criteria the server cannot honour goes to ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from ...errors import BindeledError
from ...security.principal import Principal
from ...store.base import HistoryQuery, StoredResource, Transaction, run_transaction, utc_now
from ...store.guard import as_system
from ..services import Services
from .delivery import deliver
from .matching import current_match, visible_to
from .owners import owner_of
from .spec import SubscriptionSpec, read_spec
from .websocket import WebsocketHub, hub_for

__all__ = ["SubscriptionWorker", "subscription_worker"]

log = logging.getLogger(__name__)

_PAGE = 500
_SETTLE = timedelta(seconds=1)
"""A Subscription is taken on this long after its last change, so whoever wrote it reads back what they wrote."""
_CLAIM = (
    "INSERT INTO subscription_notification (subscription_id, resource_type, resource_id, version_id, claimed)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING subscription_id"
)


@dataclass(frozen=True, slots=True)
class _InForce:
    version_id: int
    spec: SubscriptionSpec
    owner: Principal


class SubscriptionWorker:
    """One process's notifier (see the module docstring)."""

    def __init__(self, svc: Services, hub: WebsocketHub, *, settle: timedelta = _SETTLE) -> None:
        settings = svc.settings
        self.svc, self.hub, self.settle = svc, hub, settle
        self.poll = settings.subscription_poll_seconds
        self.lookback = timedelta(seconds=settings.subscription_lookback_seconds)
        self.max_failures = settings.subscription_max_failures
        self.client = httpx.AsyncClient(timeout=settings.subscription_timeout_seconds)
        self.mark = utc_now()
        self._seen: dict[tuple[str, str, int], datetime] = {}
        self._in_force: dict[str, _InForce] = {}
        self._failures: dict[str, int] = {}
        self._deliveries: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        while True:
            try:
                with as_system():
                    await self.tick()
            except Exception:  # one bad round must not stop notifications for good
                log.exception("subscription round failed")
            await asyncio.sleep(self.poll)

    def in_force(self) -> list[str]:
        """The ids of the Subscriptions this worker currently notifies."""
        return sorted(self._in_force)

    async def drain(self) -> None:
        """Wait for the rest-hook deliveries under way."""
        while self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self.client.aclose()

    async def tick(self) -> None:
        """One round: refresh the Subscriptions, read new versions, notify."""
        await self._refresh()
        if not self._in_force:  # nothing to notify: skip reading history, but keep the mark current
            self.mark = max(self.mark, utc_now() - self.lookback)
            return
        for changed in await self._changes():
            for item in list(self._in_force.values()):
                if item.spec.resource_type == changed.resource_type:
                    await self._consider(item, changed)

    # -- the Subscriptions in force ------------------------------------------------------------------

    async def _refresh(self) -> None:
        _, result = await self.svc.repo.search("Subscription", [("status", "requested,active"), ("_count", "1000")])
        current = {stored.id: stored for stored in result.resources}
        for gone in set(self._in_force) - set(current):
            del self._in_force[gone]
        now = utc_now()
        for id_, stored in current.items():
            known = self._in_force.get(id_)
            ended = known is not None and known.spec.end is not None and known.spec.end <= now
            changed = known is None or known.version_id != stored.version_id
            if (changed and stored.last_updated <= now - self.settle) or ended:
                await self._take_on(stored)

    async def _take_on(self, stored: StoredResource) -> None:
        self._in_force.pop(stored.id, None)
        body = stored.resource()
        try:
            spec = read_spec(body, self.svc.definitions)
        except BindeledError as error:
            where = f" ({error.location[0]})" if error.location else ""
            await self._set_status(stored.id, "error", f"{error.message}{where}")
            return
        owner = await owner_of(self.svc.store, stored.id)
        if owner is None:
            await self._set_status(stored.id, "error", "No owner is recorded: create it with POST /fhir/Subscription")
        elif spec.end is not None and spec.end <= utc_now():
            await self._set_status(stored.id, "off", None)
        elif spec.status == "requested":
            version = await self._set_status(stored.id, "active", None)
            if version is not None:  # in force at once: its own status change needs no settling
                self._in_force[stored.id] = _InForce(version, spec, owner)
        else:
            self._in_force[stored.id] = _InForce(stored.version_id, spec, owner)

    async def _set_status(self, id_: str, status: str, error: str | None) -> int | None:
        """Change the status (and error); the new version id, or None when another writer came first."""

        async def attempt(tx: Transaction) -> int | None:
            current = await tx.read("Subscription", id_)
            if current is None or current.deleted:
                return None
            body = {**current.resource(), "status": status}
            body.pop("error", None)
            if error:
                body["error"] = error
            result = await self.svc.repo.update_in(tx, "Subscription", id_, body, if_match=current.version_id)
            return result.stored.version_id

        try:
            return await run_transaction(self.svc.store, attempt)
        except BindeledError:  # another process changed it first; the next round sees its version
            log.info("subscription status not changed", extra={"status": status})
            return None

    # -- the versions written since the last round ---------------------------------------------------

    async def _changes(self) -> list[StoredResource]:
        since = self.mark - self.lookback
        versions: list[StoredResource] = []
        while True:
            page = await self.svc.store.history(HistoryQuery(since=since, count=_PAGE, offset=len(versions)))
            versions += page
            if len(page) < _PAGE:
                break
        fresh = [v for v in versions if (v.resource_type, v.id, v.version_id) not in self._seen]
        for version in versions:
            self._seen[(version.resource_type, version.id, version.version_id)] = version.last_updated
            self.mark = max(self.mark, version.last_updated)
        self._seen = {key: at for key, at in self._seen.items() if at >= since}
        return sorted((v for v in fresh if not v.deleted), key=lambda v: v.last_updated)

    # -- notifying -----------------------------------------------------------------------------------

    async def _consider(self, item: _InForce, changed: StoredResource) -> None:
        spec = item.spec
        if spec.channel == "websocket" and not self.hub.bound(spec.id):
            return
        current = await current_match(self.svc, spec, changed)
        if current is None or not await visible_to(self.svc, item.owner, current, audit=bool(spec.payload)):
            return
        if spec.channel == "websocket":
            await self.hub.ping(spec.id)
        elif await self._claim(spec, changed):
            task = asyncio.create_task(self._deliver(spec, current))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _claim(self, spec: SubscriptionSpec, changed: StoredResource) -> bool:
        row = (spec.id, changed.resource_type, changed.id, changed.version_id, utc_now().isoformat())

        async def attempt(tx: Transaction) -> bool:
            return bool(await tx.fetch_all(_CLAIM, row))

        return await run_transaction(self.svc.store, attempt)

    async def _deliver(self, spec: SubscriptionSpec, current: StoredResource) -> None:
        error = await deliver(self.client, spec, current, self.svc.definitions)
        if error is None:
            self._failures.pop(spec.id, None)
            return
        failures = self._failures[spec.id] = self._failures.get(spec.id, 0) + 1
        log.warning("subscription delivery failed", extra={"failures": failures})
        if failures >= self.max_failures:
            self._failures.pop(spec.id, None)
            with as_system():
                await self._set_status(spec.id, "error", error)


@asynccontextmanager
async def subscription_worker(svc: Services) -> AsyncIterator[None]:
    """The notifier for the server's lifetime."""
    worker = SubscriptionWorker(svc, hub_for(svc))
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()
