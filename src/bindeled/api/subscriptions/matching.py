"""Does a new version concern a Subscription, and may its owner see it? Search matching plus the gate.

A version matches when the resource, as it is now, is found by the Subscription's criteria restricted
to its id (the repository's own search, so criteria mean exactly what they mean in a search). It is
then shown to the owner's policy as a read: a citizen's Subscription only ever matches the citizen's
own data (and data they hold a power of attorney for), a clinician's only what the clinician could
read now (purpose, blocks, consents, treatment relation), and a result whose display the citizen
refused reaches no clinician's or citizen's Subscription (only statutory surveillance sees it).
Subscriptions themselves are never notified about, so no one learns another user's endpoints.
What the owner is told is what their own search and read would show (:func:`as_read_by`): the
repository's search rules leave out a match that itself tells too much (a protected citizen found by an
address criterion), and a payload carries the resource through the read masks (that citizen's address
masked outside the owner's municipality).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ...errors import BindeledError
from ...fhir.search import SearchRequest
from ...security.guard import RequestGuard
from ...security.principal import Principal
from ...store.base import StoredResource
from ...store.guard import as_system
from ..services import Services
from .spec import SubscriptionSpec

__all__ = ["Match", "as_read_by", "current_match"]


@dataclass(frozen=True, slots=True)
class Match:
    """A current version that meets a Subscription's criteria, and the search that found it."""

    request: SearchRequest
    stored: StoredResource


async def current_match(svc: Services, spec: SubscriptionSpec, changed: StoredResource) -> Match | None:
    """The current version of the changed resource when it meets the criteria (None otherwise)."""
    if changed.deleted or changed.resource_type != spec.resource_type or changed.resource_type == "Subscription":
        return None
    with as_system():
        request, result = await svc.repo.search(spec.resource_type, [*spec.params, ("_id", changed.id)])
    return Match(request, result.resources[0]) if result.resources else None


async def as_read_by(svc: Services, owner: Principal, match: Match, *, audit: bool) -> StoredResource | None:
    """The matched resource as ``owner``'s own search would show it now; None when it would not show it.

    The gate decides as for a read (a refusal — a withdrawn trust agreement, a lapsed review, an expired
    authorisation — is a plain no); the repository's search rules (``Repository.search_hides``) may leave
    the match out; its read masks (``Repository.read_masks``) then shape what a payload shows. ``audit``
    writes the access (MinLog) when it is allowed and a payload goes out.
    """
    if svc.gate is None:
        return match.stored
    await svc.refresh_registers()
    guard = RequestGuard(svc.gate.session(owner, f"subscription-{uuid.uuid4()}"), svc.store)
    try:
        shown = list(await guard.visible("read", [match.stored]))
        for hide in svc.repo.search_hides:
            shown = list(await hide(guard, match.request, shown))
        for mask in svc.repo.read_masks:
            shown = list(await mask(guard, shown))
    except BindeledError:
        return None
    if not shown:
        return None
    if audit:
        await guard.finish(200)
    return shown[0]
