"""The rollout register on both backends, and what a plan may hold."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bindeled.errors import InvalidRequest
from bindeled.indicators.rollout import RolloutRegister, decode_plan
from bindeled.store.base import Store

pytestmark = pytest.mark.anyio

ODENSE = "10219999999100"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


async def test_plans_are_created_replaced_listed_and_removed(store: Store) -> None:
    register = RolloutRegister(store)
    plan = decode_plan(ODENSE, "overview", b'{"planned_go_live": "2027-03-01", "note": "efter test"}')
    assert await register.put(plan, NOW)
    live = decode_plan(ODENSE, "overview", b'{"live": true}')
    assert not await register.put(live, NOW)
    await register.put(decode_plan(ODENSE, "lab", b"{}"), NOW)
    (lab, overview) = await register.plans()
    assert (overview.service, overview.live, overview.planned_go_live, overview.note) == ("overview", True, None, "")
    assert lab.service == "lab" and not lab.live and overview.updated.startswith("2026-11-20T12:00:00")
    assert await register.delete(ODENSE, "lab")
    assert not await register.delete(ODENSE, "lab")
    assert [p.service for p in await register.plans()] == ["overview"]


@pytest.mark.parametrize(
    ("organisation", "service", "body", "where"),
    [
        ("not-sor", "overview", b"{}", "organisation"),
        (ODENSE, "fmk", b"{}", "service"),
        (ODENSE, "lab", b"{not json", "body"),
        (ODENSE, "lab", b'{"planned_go_live": "soon"}', "planned_go_live"),
        (ODENSE, "lab", b'{"live": "yes"}', "live"),
        (ODENSE, "lab", b'{"colour": "red"}', "body"),
    ],
)
def test_bad_plans_are_refused_with_the_field(organisation: str, service: str, body: bytes, where: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        decode_plan(organisation, service, body)
    assert refused.value.location == (where,)


def test_a_plan_keeps_its_date() -> None:
    assert decode_plan(ODENSE, "lab", b'{"planned_go_live": "2027-01-31"}').planned_go_live == date(2027, 1, 31)
