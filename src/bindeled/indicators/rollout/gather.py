"""The rollout view from the live data: the SOR register, the security registers, the hub, the plans.

The Organizations are read through the caller's guard (the gate decides and audits); the registers'
trust agreements and the registered system clients are the ones the gate itself uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec

from ...security.clients import RegisteredClient
from ...security.registers import TrustAgreement
from ...store.base import Store
from ...store.repository import Repository
from ..sor_tree import read_organizations, sor_tree_from_organizations
from .hub_messages import latest_test_messages
from .plans import RolloutRegister
from .readiness import RolloutView, assess, organisations

__all__ = ["rollout_view", "view_json"]


async def rollout_view(
    repo: Repository,
    store: Store,
    agreements: Iterable[TrustAgreement],
    clients: Iterable[RegisteredClient],
    now: datetime,
) -> RolloutView:
    """Every organisation's readiness per service, and the services live per municipality, as of ``now``."""
    tree = sor_tree_from_organizations(await read_organizations(repo))
    messages = await latest_test_messages(store, tree, organisations(tree, now.date()))
    plans = await RolloutRegister(store).plans()
    return assess(tree, agreements, clients, messages, plans, now)


def view_json(view: RolloutView) -> dict[str, Any]:
    """The view as plain JSON (dates as ISO text), as the API answers it."""
    found: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(view))
    return found
