"""The public names of the Subscriptions package are pinned."""

from __future__ import annotations

from bindeled.api import subscriptions


def test_subscription_public_names() -> None:
    assert sorted(subscriptions.__all__) == [
        "create_subscription",
        "delete_subscription",
        "read_subscription",
        "search_subscriptions",
        "subscription_routes",
        "subscription_websocket_route",
        "subscription_worker",
    ]
