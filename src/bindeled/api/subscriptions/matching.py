"""Does a new version concern a Subscription, and may its owner see it? Search matching plus the gate.

A version matches when the resource, as it is now, is found by the Subscription's criteria restricted
to its id (the repository's own search, so criteria mean exactly what they mean in a search). It is
then shown to the owner's policy as a read: a citizen's Subscription only ever matches the citizen's
own data (and data they hold a power of attorney for), a clinician's only what the clinician could
read now (purpose, blocks, consents, treatment relation), and a result whose display the citizen
refused reaches no clinician's or citizen's Subscription (only statutory surveillance sees it).
Subscriptions themselves are never notified about, so no one learns another user's endpoints.
"""

from __future__ import annotations

import uuid

from ...errors import BindeledError
from ...security.guard import RequestGuard
from ...security.principal import Principal
from ...store.base import StoredResource
from ...store.guard import as_system
from ..services import Services
from .spec import SubscriptionSpec

__all__ = ["current_match", "visible_to"]


async def current_match(svc: Services, spec: SubscriptionSpec, changed: StoredResource) -> StoredResource | None:
    """The current version of the changed resource when it meets the criteria (None otherwise)."""
    if changed.deleted or changed.resource_type != spec.resource_type or changed.resource_type == "Subscription":
        return None
    with as_system():
        _, result = await svc.repo.search(spec.resource_type, [*spec.params, ("_id", changed.id)])
    return result.resources[0] if result.resources else None


async def visible_to(svc: Services, owner: Principal, stored: StoredResource, *, audit: bool) -> bool:
    """Whether ``owner`` may read ``stored`` now; ``audit`` writes the access (MinLog) when a payload goes out.

    A refusal (a withdrawn trust agreement, a lapsed review, an expired authorisation) is a plain no.
    """
    if svc.gate is None:
        return True
    await svc.refresh_registers()
    guard = RequestGuard(svc.gate.session(owner, f"subscription-{uuid.uuid4()}"), svc.store)
    try:
        visible = bool(await guard.visible("read", [stored]))
    except BindeledError:
        return False
    if visible and audit:
        await guard.finish(200)
    return visible
