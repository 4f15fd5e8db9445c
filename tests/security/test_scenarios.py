"""The issue's realistic cases, end to end through the real token path: mint → verify → Principal → Session."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bindeled.errors import NotFound
from bindeled.security import AccessRefused, Block, Consent, ContextMissing, minlog_view, verify_chain
from tests.security.world import (
    CARDIOLOGY,
    CARL,
    GP_PRACTICE,
    HOSPITAL,
    MEDICAL,
    World,
    appointment,
    medication,
    registers,
)

pytestmark = pytest.mark.anyio

APPOINTMENTS = [
    appointment("a1", "Patient/carl", "Organization/medical"),
    appointment("a2", "Patient/carl", "Organization/cardio"),
    appointment("a3", "Patient/carl", "Organization/gp"),
]


async def test_sosu_helper_reads_appointments_under_the_trust_agreement(world: World) -> None:
    found = await world.search(world.headers("sosu", "ESP_APPOINTMENTS"), "Appointment", APPOINTMENTS)
    assert [r["id"] for r in found] == ["a1", "a2", "a3"]
    entries = await world.sink.minlog(CARL)
    assert len(entries) == 1
    assert (entries[0].user_full_name, entries[0].user_role) == ("Sara Demo Hjælper", "nspSundAssistR2")
    assert entries[0].purpose == "ESP_APPOINTMENTS"


async def test_sosu_helper_is_refused_medication(world: World) -> None:
    meds = [medication("m1", "Patient/carl", "Organization/gp")]
    with pytest.raises(AccessRefused) as under_appointments:
        await world.search(world.headers("sosu", "ESP_APPOINTMENTS"), "MedicationStatement", meds)
    assert under_appointments.value.details_code == "purpose_not_covering"
    with pytest.raises(AccessRefused) as under_fmk:
        await world.search(world.headers("sosu", "FMK_READ"), "MedicationStatement", meds)
    assert under_fmk.value.details_code == "no_trust_agreement"
    assert await world.sink.minlog(CARL) == []
    outcomes = [r.event()["outcome"] for r in world.sink.chain]
    assert outcomes == ["4", "4"]
    assert [r.event()["outcomeDesc"] for r in world.sink.chain] == ["purpose_not_covering", "no_trust_agreement"]


async def test_withdrawing_the_agreement_refuses_the_next_call(world: World) -> None:
    headers = world.headers("sosu", "ESP_APPOINTMENTS")
    assert len(await world.search(headers, "Appointment", APPOINTMENTS)) == 3
    agreement = world.gate.registers.trust_agreements[0]
    withdrawn = replace(agreement, withdrawn_at=world.clock.now)
    world.gate.replace_registers(world.gate.registers.with_changes(trust_agreements=(withdrawn,)))
    with pytest.raises(AccessRefused) as refused:
        await world.search(headers, "Appointment", APPOINTMENTS)
    assert refused.value.details_code == "trust_agreement_withdrawn"


async def test_a_lapsed_user_review_refuses_the_next_call(world: World) -> None:
    world.clock.now += timedelta(days=200)
    with pytest.raises(AccessRefused) as refused:
        await world.search(world.headers("sosu", "ESP_APPOINTMENTS"), "Appointment", APPOINTMENTS)
    assert refused.value.details_code == "trust_review_lapsed"


async def test_a_blocked_gp_gets_empty_results_and_leaves_no_minlog(world: World) -> None:
    block = Block("b1", CARL, "person", professional_id="GP7K2")
    world.gate.replace_registers(registers(blocks=(block,)))
    headers = world.headers("gp", "ESP_APPOINTMENTS")
    assert await world.search(headers, "Appointment", APPOINTMENTS) == []
    with pytest.raises(NotFound) as missing:
        await world.read(headers, APPOINTMENTS[0])
    assert missing.value.message == "Resource not found"
    assert await world.sink.minlog(CARL) == []
    # The operator log has both requests, and nothing in it reveals the block.
    events = [r.event() for r in world.sink.chain]
    assert [e["outcome"] for e in events] == ["0", "4"]
    assert "block" not in str(events)


async def test_emergency_access_with_a_reason_shows_blocked_data_and_the_citizen_sees_it(world: World) -> None:
    world.gate.replace_registers(registers(blocks=(Block("b1", CARL, "person", professional_id="HD4M9"),)))
    plain = world.headers("doctor", "ESP_APPOINTMENTS")
    assert await world.search(plain, "Appointment", APPOINTMENTS) == []
    emergency = world.headers(
        "doctor", "ESP_APPOINTMENTS", **{"X-Emergency-Access": "true", "X-Emergency-Reason": "not_contactable"}
    )
    assert len(await world.search(emergency, "Appointment", APPOINTMENTS)) == 3
    citizen = world.principal("citizen")
    entries = await world.sink.minlog(citizen.cpr or "")
    assert len(entries) == 1
    view = minlog_view(entries[0])
    assert view["emergency"] is True and view["emergencyReason"] == "not_contactable"
    assert view["user"]["name"] == "Henrik Demo Overlæge"
    operator_view = world.sink.chain[-1].event()["purposeOfEvent"]
    assert [c["code"] for c in operator_view[1]["coding"]] == ["ETREAT", "not_contactable"]


async def test_emergency_access_without_a_reason_is_400(world: World) -> None:
    with pytest.raises(ContextMissing) as refused:
        world.principal("doctor", "ESP_APPOINTMENTS", **{"X-Emergency-Access": "true"})
    assert (refused.value.status, refused.value.details_code) == (400, "missing_emergency_reason")


async def test_an_expired_authorisation_counts_as_none(world: World) -> None:
    # The nurse's authorisation ended in 2025; her home-care unit has no FMK trust agreement.
    with pytest.raises(AccessRefused) as refused:
        await world.search(world.headers("nurse", "FMK_READ"), "MedicationStatement", [])
    assert refused.value.details_code == "authorisation_expired"
    # Under appointments her unit's trust agreement carries her, as a non-authorised user.
    found = await world.search(world.headers("nurse", "ESP_APPOINTMENTS"), "Appointment", APPOINTMENTS)
    assert len(found) == 3


async def test_a_block_on_a_hospital_with_sub_units_hides_every_department_below_it(world: World) -> None:
    headers = world.headers("gp", "ESP_APPOINTMENTS")
    whole = Block("b1", CARL, "organisation", organisation_sor=HOSPITAL, include_subunits=True)
    world.gate.replace_registers(registers(blocks=(whole,)))
    assert [r["id"] for r in await world.search(headers, "Appointment", APPOINTMENTS)] == ["a3"]
    only_top = Block("b2", CARL, "organisation", organisation_sor=HOSPITAL)
    world.gate.replace_registers(registers(blocks=(only_top,)))
    assert [r["id"] for r in await world.search(headers, "Appointment", APPOINTMENTS)] == ["a1", "a2", "a3"]
    one_department = Block("b3", CARL, "organisation", organisation_sor=CARDIOLOGY)
    world.gate.replace_registers(registers(blocks=(one_department,)))
    assert [r["id"] for r in await world.search(headers, "Appointment", APPOINTMENTS)] == ["a1", "a3"]
    assert MEDICAL != CARDIOLOGY


async def test_a_positive_consent_beats_a_block(world: World) -> None:
    block = Block("b1", CARL, "person", professional_id="GP7K2")
    consent = Consent("c1", CARL, organisation_sor=GP_PRACTICE)
    world.gate.replace_registers(registers(blocks=(block,), consents=(consent,)))
    assert len(await world.search(world.headers("gp", "ESP_APPOINTMENTS"), "Appointment", APPOINTMENTS)) == 3


async def test_a_request_without_purpose_is_400_and_audited(world: World) -> None:
    with pytest.raises(ContextMissing) as refused:
        await world.search(world.headers("gp"), "Appointment", APPOINTMENTS)
    assert (refused.value.status, refused.value.details_code) == (400, "missing_purpose")
    assert [r.event()["outcomeDesc"] for r in world.sink.chain] == ["missing_purpose"]


async def test_many_resources_of_one_citizen_are_one_minlog_entry_and_the_chain_verifies(world: World) -> None:
    headers = world.headers("doctor", "ESP_APPOINTMENTS")
    await world.search(headers, "Appointment", APPOINTMENTS)
    await world.read(headers, APPOINTMENTS[0])
    entries = await world.sink.minlog(CARL)
    assert [(e.activity, e.correlation_id) for e in entries] == [("read", "corr-search"), ("read", "corr-read")]
    assert (await verify_chain(world.sink)).ok


async def test_the_gate_writes_nothing_personal_to_the_application_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    world.gate.replace_registers(registers(blocks=(Block("b1", CARL, "person", professional_id="GP7K2"),)))
    token = world.token("gp", "ESP_APPOINTMENTS")
    await world.search({"Authorization": f"Bearer {token}"}, "Appointment", APPOINTMENTS)
    with pytest.raises(AccessRefused):
        await world.search(world.headers("sosu", "FMK_READ"), "MedicationStatement", [])
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records if r.name.startswith("bindeled"))
    for secret in (CARL, token, "Gitte", "Sara"):
        assert secret not in logged
