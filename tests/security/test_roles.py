"""Role rules (secretary, epidemiologist, platform operator) and the refused-display label, in the pure policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindeled.security import Action, Authorisation, Principal, Target, TrustAgreement, decide, decide_access
from bindeled.security.facts import REFUSED_DISPLAY, is_refused_display, target_of
from bindeled.security.policy import PolicySettings, sees_refused_display
from bindeled.security.roles import is_operator, role_refusal
from tests.security.world import CARL, NOW, World, registers

SURGICAL_CLINIC = "10129999999100"
MICROBIOLOGY = "10259999999100"


def _principal(world: World, user: str, purpose: str | None = None) -> Principal:
    return world.principal(user, purpose)


def _world_registers() -> object:
    agreements = tuple(
        TrustAgreement(f"sec-{p}", SURGICAL_CLINIC, "DemoSP", p, last_review=NOW)
        for p in ("ESP_APPOINTMENTS", "ESP_STAMKORT", "FMK_READ")
    )
    return registers(
        trust_agreements=agreements,
        authorisations=tuple(Authorisation(a, "7170") for a in ("EP5R7", "GP7K2", "HD4M9")),
    )


@pytest.fixture
def roles_world(tmp_path: Path) -> World:
    world = World(tmp_path)
    world.gate.replace_registers(_world_registers())  # type: ignore[arg-type]
    return world


def _access(world: World, principal: Principal, interaction: str, resource_type: str) -> str:
    decision = decide_access(principal, Action(interaction, resource_type), world.gate.registers, NOW, PolicySettings())
    return decision.reason if not decision.allowed else "allow"


def test_a_secretary_books_appointments_but_never_sees_medication(roles_world: World) -> None:
    secretary = _principal(roles_world, "secretary", "ESP_APPOINTMENTS")
    assert _access(roles_world, secretary, "search", "Appointment") == "allow"
    assert _access(roles_world, secretary, "create", "Appointment") == "allow"
    # Her unit even has an FMK trust agreement; her role still keeps medication out of reach.
    fmk = _principal(roles_world, "secretary", "FMK_READ")
    assert _access(roles_world, fmk, "search", "MedicationStatement") == "role_purpose_not_permitted"


def test_an_epidemiologist_reads_lab_results_for_surveillance_only(roles_world: World) -> None:
    epi = _principal(roles_world, "epidemiologist")
    assert epi.purpose == "SURVEILLANCE"  # the token's default purpose
    for kind in ("Observation", "DiagnosticReport", "Encounter"):
        assert _access(roles_world, epi, "search", kind) == "allow"
    assert _access(roles_world, epi, "search", "MedicationRequest") == "role_not_covering"
    assert _access(roles_world, epi, "create", "Observation") == "scope_insufficient"  # a read-only token
    other = _principal(roles_world, "epidemiologist", "SJ_READ")
    assert _access(roles_world, other, "search", "Observation") == "role_purpose_not_permitted"
    # No treatment relation needed, and never flagged for verification: statutory surveillance.
    stranger = Target("6203853712", MICROBIOLOGY)
    decision = decide(epi, Action("read", "Observation"), stranger, roles_world.gate.registers, NOW)
    assert decision.allowed and "pending_verification" not in decision.flags


def test_a_platform_operator_sees_no_citizen_data(roles_world: World) -> None:
    operator = _principal(roles_world, "operator")
    assert is_operator(operator) and not operator.admin
    own_target = Target(CARL, None)
    decision = decide(operator, Action("read", "Observation"), own_target, roles_world.gate.registers, NOW)
    assert decision.effect == "hide"
    write = decide(operator, Action("update", "Observation"), own_target, roles_world.gate.registers, NOW)
    assert write.effect == "refuse" and write.reason == "not_own_data"
    platform = decide(operator, Action("read", "Organization"), Target(None), roles_world.gate.registers, NOW)
    assert platform.allowed
    assert role_refusal(operator, "Organization", PolicySettings().roles) is None
    assert not is_operator(_principal(roles_world, "gp", "SJ_READ"))


LABELLED = {
    "resourceType": "Observation",
    "id": "o1",
    "meta": {"security": [REFUSED_DISPLAY]},
    "status": "final",
    "subject": {"reference": "Patient/carl"},
}


def test_the_refused_display_label_is_read_from_meta_security() -> None:
    assert is_refused_display(LABELLED)
    assert not is_refused_display({**LABELLED, "meta": {"security": [{"system": "x", "code": "refused"}]}})
    assert not is_refused_display({"resourceType": "Observation", "meta": {"security": "refused"}})
    target = target_of(LABELLED, {"Patient/carl": CARL}.get, {}.get)
    assert target.refused_display and target.citizen == CARL


@pytest.mark.parametrize(
    ("user", "purpose", "effect"),
    [
        ("gp", "SJ_READ", "hide"),
        ("doctor", "LAB_READ", "hide"),
        ("citizen", None, "hide"),
        ("operator", None, "hide"),
        ("epidemiologist", None, "allow"),
        ("admin", None, "allow"),
    ],
)
def test_refused_display_data_is_hidden_from_every_view_but_surveillance_and_admin(
    roles_world: World, user: str, purpose: str | None, effect: str
) -> None:
    principal = _principal(roles_world, user, purpose)
    target = target_of(LABELLED, {"Patient/carl": CARL}.get, {}.get)
    decision = decide(principal, Action("read", "Observation"), target, roles_world.gate.registers, NOW)
    assert decision.effect == effect
    assert sees_refused_display(principal, PolicySettings()) == (effect == "allow")


def test_the_label_does_not_stop_writes(roles_world: World) -> None:
    gp = _principal(roles_world, "gp", "ESP_PLANS")
    plan = {**LABELLED, "resourceType": "CarePlan"}
    target = target_of(plan, {"Patient/carl": CARL}.get, {}.get)
    assert decide(gp, Action("create", "CarePlan"), target, roles_world.gate.registers, NOW).allowed
    assert decide(gp, Action("read", "CarePlan"), target, roles_world.gate.registers, NOW).effect == "hide"
