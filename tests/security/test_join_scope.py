"""What a principal's chained and ``_has`` searches may join: the scope the guard hands the search compiler."""

from __future__ import annotations

import pytest

from bindeled.errors import BindeledError
from bindeled.security import Block, Consent
from bindeled.security.facts import DISPLAY_SYSTEM
from bindeled.security.guard import MAX_JOIN_HIDDEN, RequestGuard
from bindeled.store.search.narrowing import JoinScope
from tests.security.world import CARL, DORA, HOSPITAL, World, registers

pytestmark = pytest.mark.anyio

REFUSED = ((DISPLAY_SYSTEM, "refused"),)
OTHER = "0404901234"


async def _scope(world: World, user: str, purpose: str | None = None, **extra: str) -> JoinScope | None:
    principal = world.principal(user, purpose, **extra)
    return await RequestGuard(world.gate.session(principal, "c"), world.gate.sink).allow_probes()  # type: ignore[arg-type]


def _blocks() -> tuple[Block, ...]:
    return (
        Block("b1", CARL, "person", professional_id="GP7K2"),  # the GP by name
        Block("b2", DORA, "person", professional_id="SOMEONE"),  # another professional
        Block("b3", OTHER, "organisation", organisation_sor=HOSPITAL, include_subunits=True),
    )


async def test_administrators_are_not_narrowed(world: World) -> None:
    assert await _scope(world, "admin") is None


async def test_staff_skip_citizens_whose_blocks_may_apply_to_them(world: World) -> None:
    world.gate.replace_registers(registers(blocks=_blocks()))
    scope = await _scope(world, "gp", "SJ_READ")
    assert scope is not None
    assert scope.hidden_citizens == {CARL, OTHER} and scope.only_citizens is None
    assert scope.hidden_labels == REFUSED
    doctor = await _scope(world, "doctor", "SJ_READ")
    assert doctor is not None and doctor.hidden_citizens == {OTHER}


async def test_consents_and_emergency_access_open_the_join(world: World) -> None:
    consent = Consent("c1", CARL, professional_id="GP7K2")
    world.gate.replace_registers(registers(blocks=_blocks(), consents=(consent,)))
    scope = await _scope(world, "gp", "SJ_READ")
    assert scope is not None and scope.hidden_citizens == {OTHER}
    emergency = await _scope(world, "gp", "SJ_READ", **{"X-Emergency-Access": "true", "X-Emergency-Reason": "acute"})
    assert emergency is not None and emergency.hidden_citizens == frozenset()


async def test_citizens_proxies_and_operators_join_only_their_own(world: World) -> None:
    citizen = await _scope(world, "citizen")
    assert citizen is not None and citizen.only_citizens == {CARL}
    proxy = await _scope(world, "proxy")
    assert proxy is not None and proxy.only_citizens == {"6202759996", CARL, "6203853712"}
    operator = await _scope(world, "operator")
    assert operator is not None and operator.only_citizens == frozenset()


async def test_types_outside_the_purpose_are_never_joined(world: World) -> None:
    scope = await _scope(world, "gp", "LAB_READ")
    assert scope is not None
    assert scope.types(("Observation", "MedicationRequest", "Patient")) == ("Observation", "Patient")


async def test_too_many_blocked_citizens_refuse_chains(world: World) -> None:
    many = tuple(Block(f"b{n}", f"{n:010d}", "all") for n in range(MAX_JOIN_HIDDEN + 1))
    world.gate.replace_registers(registers(blocks=many))
    with pytest.raises(BindeledError) as refused:
        await _scope(world, "gp", "SJ_READ")
    assert refused.value.details_code == "search_probe_refused"
