"""Which hospitals the register holds, as the stay effect asks it: read once, then remembered for a while."""

from __future__ import annotations

import pytest

from bindeled.messaging.hub.stay_effects import RegisteredUnits
from bindeled.messaging.messages import SOR_SYSTEM
from bindeled.store.guard import as_system
from tests.messaging.hub.conftest import Stored

pytestmark = pytest.mark.anyio

SOR = "265161000016000"


async def _register(stored: Stored, sor: str) -> None:
    org = {"resourceType": "Organization", "id": f"sor-{sor}", "identifier": [{"system": SOR_SYSTEM, "value": sor}]}
    with as_system():
        await stored.repo.update("Organization", f"sor-{sor}", org)


async def test_registered_units_are_read_then_remembered(stored: Stored) -> None:
    remembering = RegisteredUnits(stored.store, ttl=3600)
    asking = RegisteredUnits(stored.store, ttl=0)
    assert await remembering.among({SOR, "999"}) == frozenset()
    await _register(stored, SOR)
    assert await asking.among({SOR, "999"}) == frozenset({SOR})
    assert await remembering.among({SOR}) == frozenset()  # remembered: not asked again within its ttl
    assert await remembering.among(set()) == frozenset()
