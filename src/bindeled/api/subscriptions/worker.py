"""The notifier: tails the store's global history and notifies matching Subscriptions within a second.

Every ``subscription_poll_seconds`` the worker reads the versions written since its high-water mark
(minus ``subscription_lookback_seconds``, so a transaction that committed late is still seen; versions
already handled are remembered; the mark is kept in ``subscription_mark``, so after a restart the
worker reads on from where it stopped), refreshes the Subscriptions in force, and for each new version
and each Subscription of its type asks :mod:`.matching` whether it matches and whether the owner may
see it. A websocket ping goes out from every process to the sockets bound in it (:mod:`.websocket`
checks the owner's right to read anew for each one). A rest-hook notification is queued
(:mod:`.queue`: claimed once, so with several server processes exactly one sends it) and sent at once.

A failed rest-hook call is retried with back-off (``subscription_retry_seconds``, doubling, at most
``subscription_retry_max_seconds``); the Subscription's later notifications wait behind it, in order.
After ``subscription_max_failures`` failures in a row the Subscription is set to ``error`` with the
reason in ``error`` (no data in it) and keeps being retried; the first success sets it ``active``
again (R4). Before each call the owner's right to read is checked again: a notification its owner may
no longer see is dropped, never sent; a payload is the resource as the owner's own read would show it
(protected addresses masked, :func:`.matching.as_read_by`).

Status is otherwise the server's: ``requested`` becomes ``active`` when the worker takes the
Subscription on (a second after it was written); a passed ``end`` sets ``off``; a Subscription
without a recorded owner (not created through ``/fhir/Subscription``) or with criteria the server
cannot honour goes to ``error``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx

from ...errors import BindeledError
from ...security.principal import Principal
from ...store.base import HistoryQuery, StoredResource, Transaction, run_transaction, utc_now
from ...store.guard import as_system
from ..services import Services
from ..workers import background_task
from .delivery import deliver
from .headers import lines_of, restored
from .matching import as_read_by, current_match
from .owners import owner_of
from .queue import (
    Queued,
    backoff,
    claim,
    due_subscriptions,
    lease,
    mark_dropped,
    mark_failed,
    mark_sent,
    pending_of,
    purge_done,
    stamp,
)
from .spec import SubscriptionSpec, read_spec
from .websocket import WebsocketHub, hub_for

__all__ = ["SubscriptionWorker", "subscription_worker"]

log = logging.getLogger(__name__)

_PAGE = 500
_SETTLE = timedelta(seconds=1)
"""A Subscription is taken on this long after its last change, so whoever wrote it reads back what they wrote."""
_CATCH_UP = timedelta(hours=1)
"""After a restart, versions written at most this long before are still notified (a longer stop loses older ones)."""
_READ_MARK = "SELECT mark FROM subscription_mark WHERE id = 1"
_WRITE_MARK = (
    "INSERT INTO subscription_mark (id, mark) VALUES (1, $1)"
    " ON CONFLICT (id) DO UPDATE SET mark = excluded.mark WHERE subscription_mark.mark < excluded.mark"
)
_KEEP_IDLE_MARK = timedelta(seconds=10)
_PURGE_EVERY = timedelta(minutes=10)
_KEEP_DONE = timedelta(days=7)
_GONE = "The Subscription is no longer active"
_HIDDEN = "The owner may not read this resource now"


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
        self.retry = (settings.subscription_retry_seconds, settings.subscription_retry_max_seconds)
        self.lease_for = timedelta(seconds=settings.subscription_timeout_seconds + 5)
        self.client = httpx.AsyncClient(timeout=settings.subscription_timeout_seconds)
        self.mark: datetime | None = None
        self._seen: dict[tuple[str, str, int], datetime] = {}
        self._in_force: dict[str, _InForce] = {}
        self._current: set[str] = set()
        self._refused: dict[str, int] = {}
        """Subscriptions (id → version) the server cannot honour: not parsed again until they change."""
        self._busy: set[str] = set()
        self._mark_kept: datetime | None = None
        self._mark_kept_at = self._purged_at = datetime.min.replace(tzinfo=UTC)
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
        """One round: refresh the Subscriptions, read new versions, notify, send what is due."""
        await self._refresh()
        if self.mark is None:
            self.mark = await self._stored_mark()
        if not self._in_force:  # nothing to notify: skip reading history, but keep the mark current
            self.mark = max(self.mark, utc_now() - self.lookback)
        else:
            for changed in await self._changes():
                for item in list(self._in_force.values()):
                    if item.spec.resource_type == changed.resource_type:
                        await self._consider_safely(item, changed)
        await self._keep_mark()
        await self._send_due()
        if utc_now() - self._purged_at >= _PURGE_EVERY:
            self._purged_at = utc_now()
            await purge_done(self.svc.store, self._purged_at - _KEEP_DONE)

    # -- the Subscriptions in force ------------------------------------------------------------------

    async def _refresh(self) -> None:
        params = [("status", "requested,active,error"), ("_count", "1000")]
        _, result = await self.svc.repo.search("Subscription", params)
        current = {stored.id: stored for stored in result.resources}
        self._current = set(current)
        for gone in set(self._in_force) - set(current):
            del self._in_force[gone]
        now = utc_now()
        for id_, stored in current.items():
            known = self._in_force.get(id_)
            ended = known is not None and known.spec.end is not None and known.spec.end <= now
            changed = known is None or known.version_id != stored.version_id
            if self._refused.get(id_) == stored.version_id:
                continue
            if (changed and stored.last_updated <= now - self.settle) or ended:
                await self._take_on(stored)

    async def _take_on(self, stored: StoredResource) -> None:
        self._in_force.pop(stored.id, None)
        body = stored.resource()
        lines = await lines_of(self.svc.store, stored.id)
        try:
            spec = read_spec(restored(body, lines) if lines is not None else body, self.svc.definitions)
        except BindeledError as error:
            where = f" ({error.location[0]})" if error.location else ""
            await self._refuse(stored, f"{error.message}{where}")
            return
        owner = await owner_of(self.svc.store, stored.id)
        if owner is None:
            await self._refuse(stored, "No owner is recorded: create it with POST /fhir/Subscription")
        elif spec.end is not None and spec.end <= utc_now():
            await self._set_status(stored.id, "off", None)
        elif spec.status == "requested":
            version = await self._set_status(stored.id, "active", None)
            if version is not None:  # in force at once: its own status change needs no settling
                self._in_force[stored.id] = _InForce(version, _with_status(spec, "active"), owner)
        else:  # active, or error after failed deliveries: still notified (and retried) until it recovers
            self._in_force[stored.id] = _InForce(stored.version_id, spec, owner)

    async def _refuse(self, stored: StoredResource, reason: str) -> None:
        """Put a Subscription the server cannot honour in ``error`` (once) and leave it alone until it changes."""
        version = await self._set_status(stored.id, "error", reason)
        self._refused[stored.id] = version if version is not None else stored.version_id

    async def _set_status(self, id_: str, status: str, error: str | None) -> int | None:
        """Change the status (and error); the new version id, or None when unchanged or another writer came first."""

        async def attempt(tx: Transaction) -> int | None:
            current = await tx.read("Subscription", id_)
            if current is None or current.deleted:
                return None
            before = current.resource()
            if before.get("status") == status and before.get("error") == error:
                return current.version_id
            body = {**before, "status": status}
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

    async def _stored_mark(self) -> datetime:
        rows = await self.svc.store.fetch_all(_READ_MARK)
        now = utc_now()
        if not rows:
            return now
        return max(datetime.fromisoformat(str(rows[0][0])), now - _CATCH_UP)

    async def _keep_mark(self) -> None:
        """Store the mark when it moved (while nothing is in force, at most every few seconds)."""
        mark = self.mark
        idle = not self._in_force and utc_now() - self._mark_kept_at < _KEEP_IDLE_MARK
        if mark is None or mark == self._mark_kept or idle:
            return

        async def attempt(tx: Transaction) -> None:
            await tx.fetch_all(_WRITE_MARK, (stamp(mark),))

        await run_transaction(self.svc.store, attempt)
        self._mark_kept, self._mark_kept_at = mark, utc_now()

    async def _changes(self) -> list[StoredResource]:
        assert self.mark is not None
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

    async def _consider_safely(self, item: _InForce, changed: StoredResource) -> None:
        """One Subscription's trouble with one version must not keep the others from being notified."""
        try:
            await self._consider(item, changed)
        except Exception:
            log.exception("subscription not notified", extra={"subscription": item.spec.id})

    async def _consider(self, item: _InForce, changed: StoredResource) -> None:
        spec = item.spec
        if spec.channel == "websocket" and not self.hub.bound(spec.id):
            return
        match = await current_match(self.svc, spec, changed)
        if match is None or await as_read_by(self.svc, item.owner, match, audit=False) is None:
            return
        if spec.channel == "websocket":
            await self.hub.ping(spec.id)
        else:
            await claim(self.svc.store, spec.id, changed.resource_type, changed.id, changed.version_id)

    async def _send_due(self) -> None:
        """Start sending for each Subscription with a notification due (one sender per Subscription)."""
        for id_ in await due_subscriptions(self.svc.store, utc_now()):
            if id_ in self._busy or (id_ not in self._in_force and id_ in self._current):
                continue  # being sent, or settling after a change
            self._busy.add(id_)
            task = asyncio.create_task(self._send_queue(id_))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _send_queue(self, id_: str) -> None:
        """Send one Subscription's pending notifications in order, stopping at the first failure."""
        try:
            await self._send_pending(id_)
        except Exception:  # the rows stay pending (their lease runs out): the next round tries again
            log.exception("subscription queue not sent", extra={"subscription": id_})
        finally:
            self._busy.discard(id_)

    async def _send_pending(self, id_: str) -> None:
        with as_system():
            for queued in await pending_of(self.svc.store, id_):
                item = self._in_force.get(id_)
                if item is None and id_ in self._current:
                    return  # settling after a change: the next round sends
                now = utc_now()
                if not await lease(self.svc.store, queued, now, now + self.lease_for):
                    return  # not due yet, or another process is sending it
                if item is None:
                    await mark_dropped(self.svc.store, queued, _GONE)
                elif not await self._send_one(item, queued):
                    return

    async def _send_one(self, item: _InForce, queued: Queued) -> bool:
        """One call; False when it failed (the queue then waits)."""
        stored = await self.svc.store.read(queued.resource_type, queued.resource_id)
        match = await current_match(self.svc, item.spec, stored) if stored is not None else None
        shown = await as_read_by(self.svc, item.owner, match, audit=bool(item.spec.payload)) if match else None
        if shown is None:
            await mark_dropped(self.svc.store, queued, _HIDDEN)
            return True
        error = await deliver(self.client, item.spec, shown, self.svc.definitions)
        if error is None:
            await mark_sent(self.svc.store, queued, utc_now())
            if item.spec.status == "error":
                await self._recovered(item)
            return True
        failures = queued.attempts + 1
        await mark_failed(self.svc.store, queued, error, utc_now() + backoff(failures, *self.retry))
        log.warning("subscription delivery failed", extra={"failures": failures})
        if failures >= self.max_failures and item.spec.status != "error":
            await self._set_status(item.spec.id, "error", error)
            self._in_force[item.spec.id] = _InForce(item.version_id, _with_status(item.spec, "error"), item.owner)
        return False

    async def _recovered(self, item: _InForce) -> None:
        """The receiver works again: ``error`` → ``active`` (R4)."""
        await self._set_status(item.spec.id, "active", None)
        self._in_force[item.spec.id] = _InForce(item.version_id, _with_status(item.spec, "active"), item.owner)


def _with_status(spec: SubscriptionSpec, status: str) -> SubscriptionSpec:
    return replace(spec, status=status)


@asynccontextmanager
async def subscription_worker(svc: Services) -> AsyncIterator[None]:
    """The notifier for the server's lifetime."""
    worker = SubscriptionWorker(svc, hub_for(svc))
    try:
        async with background_task(worker.run(), "subscription-worker"):
            yield
    finally:
        await worker.close()
