"""FHIR R4 Subscriptions (criteria-based): rest-hook and websocket notifications of new and changed data.

* :mod:`.routes` — Subscriptions through plain FHIR REST at ``/fhir/Subscription``, each with its owner
  recorded (:mod:`.owners`); :mod:`.spec` checks criteria, channel, endpoint, headers and payload.
* :mod:`.worker` — tails the store's history a few times a second and notifies within a second;
  several server processes share the work (a claim per notification).
* :mod:`.matching` — the rule that keeps notifications from leaking: a version is notified only when it
  meets the criteria *and* the Subscription's owner may read it under the security gate's policy right
  now. A citizen's Subscription therefore only ever matches the citizen's own data (and data of those
  they represent); a result whose display the citizen refused is never notified to a clinician or a
  citizen; Subscriptions themselves are never notified about.
* :mod:`.delivery` (rest-hook, retried from the persisted :mod:`.queue`) and :mod:`.websocket`
  (``bind <id> [<token>]`` / ``ping <id>``, authenticated like the REST API) are the channels.
* A Subscription is its owner's on every path: importing this package registers the ownership rule
  with the security guard (:func:`~bindeled.security.guard.register_owned_type`), so reads, vreads,
  history, searches (also system-wide) and includes show another user's Subscription only to
  administrators, and its ``channel.header`` lines (:mod:`.headers`) only to the owner.
"""

from __future__ import annotations

from ...security.guard import register_owned_type
from ..operations import RouteSpec
from .owners import owned_by
from .routes import (
    create_subscription,
    delete_subscription,
    read_subscription,
    refuse_patch,
    search_subscriptions,
    subscription_type_history,
    update_subscription,
)
from .websocket import subscription_websocket_route
from .worker import subscription_worker

__all__ = [
    "create_subscription",
    "delete_subscription",
    "read_subscription",
    "search_subscriptions",
    "subscription_routes",
    "subscription_websocket_route",
    "subscription_worker",
]

register_owned_type("Subscription", owned_by)


def subscription_routes() -> list[RouteSpec]:
    """The ``/fhir/Subscription`` routes, for :func:`~bindeled.api.operations.feature_routes`.

    PATCH is refused: it would change a Subscription without recording its owner.
    """
    return [
        ("/Subscription", search_subscriptions, ["GET"]),
        ("/Subscription", create_subscription, ["POST"]),
        ("/Subscription/_history", subscription_type_history, ["GET", "HEAD"]),
        ("/Subscription/{id}", read_subscription, ["GET"]),
        ("/Subscription/{id}", update_subscription, ["PUT"]),
        ("/Subscription/{id}", delete_subscription, ["DELETE"]),
        ("/Subscription/{id}", refuse_patch, ["PATCH"]),
    ]
