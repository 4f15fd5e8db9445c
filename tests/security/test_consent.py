"""Blocks and positive consents managed as FHIR Consent resources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bindeled.errors import Unprocessable
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.security import Block, directives_from_consent
from bindeled.security.consent import AUTHORISATION_SYSTEM, INCLUDE_SUBUNITS
from bindeled.security.facts import CPR_SYSTEM, SOR_SYSTEM
from bindeled.security.registers import Period
from tests.security.world import CARL, CPR_OF, HOSPITAL, World, appointment, registers


def actor(system: str, value: str) -> list[dict[str, Any]]:
    return [{"reference": {"identifier": {"system": system, "value": value}}}]


def consent(provision: dict[str, Any], status: str = "active", patient: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": "k1",
        "status": status,
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": patient or {"reference": "Patient/carl"},
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
        "provision": provision,
    }


PERSON = consent(
    {
        "type": "deny",
        "period": {"start": "2026-01-01T00:00:00+01:00", "end": "2027-01-01T00:00:00+01:00"},
        "actor": [
            {
                "role": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]
                },
                **actor(AUTHORISATION_SYSTEM, "GP7K2")[0],
            }
        ],
    }
)
HOSPITAL_WITH_UNITS = consent(
    {
        "type": "deny",
        "extension": [{"url": INCLUDE_SUBUNITS, "valueBoolean": True}],
        "actor": [
            {
                "role": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]
                },
                **actor(SOR_SYSTEM, HOSPITAL)[0],
            }
        ],
    }
)
PERIOD = consent({"type": "deny", "dataPeriod": {"start": "2025-01-01", "end": "2025-06-30"}})
PAPER = consent(
    {"type": "deny", "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Appointment"}]},
    patient={"identifier": {"system": CPR_SYSTEM, "value": CARL}},
)


def test_a_person_block() -> None:
    blocks, consents = directives_from_consent(PERSON, CPR_OF.get)
    start = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    assert blocks == [
        Block("k1#0", CARL, "person", professional_id="GP7K2", valid=Period(start, start.replace(year=2026)))
    ]
    assert consents == []


def test_organisation_period_and_paper_blocks() -> None:
    (org,), _ = directives_from_consent(HOSPITAL_WITH_UNITS, CPR_OF.get)
    assert (org.kind, org.organisation_sor, org.include_subunits) == ("organisation", HOSPITAL, True)
    (period,), _ = directives_from_consent(PERIOD, CPR_OF.get)
    assert period.kind == "period" and period.service_period == Period(
        datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 30, tzinfo=UTC)
    )
    (paper,), _ = directives_from_consent(PAPER, CPR_OF.get)
    assert (paper.kind, paper.resource_types, paper.citizen) == ("all", frozenset({"Appointment"}), CARL)


def test_positive_consents_nested_under_a_base_policy() -> None:
    resource = consent(
        {
            "type": "permit",
            "provision": [
                {"type": "permit", "actor": actor(SOR_SYSTEM, HOSPITAL)},
                {"type": "permit", "actor": actor(AUTHORISATION_SYSTEM, "HD4M9")},
                {"type": "deny", "actor": actor(AUTHORISATION_SYSTEM, "GP7K2")},
            ],
        },
        status="inactive",
    )
    blocks, consents = directives_from_consent(resource, CPR_OF.get)
    assert [(c.organisation_sor, c.professional_id, c.active) for c in consents] == [
        (HOSPITAL, None, False),
        (None, "HD4M9", False),
    ]
    assert [(b.kind, b.active) for b in blocks] == [("person", False)]


@pytest.mark.parametrize(
    ("resource", "location"),
    [
        ({"resourceType": "Patient"}, "Consent.provision"),
        (consent({"type": "deny"}, patient={"reference": "Patient/unknown"}), "Consent.patient"),
        (
            consent({"type": "deny", "actor": actor("urn:cvr", "12345678")}),
            "Consent.provision.actor[0].reference.identifier",
        ),
        (consent({"type": "deny", "actor": actor(SOR_SYSTEM, "1") * 2}), "Consent.provision.actor"),
        (
            consent({"type": "deny", "actor": [{"reference": {"reference": "Practitioner/1"}}]}),
            "Consent.provision.actor[0].reference.identifier",
        ),
        (consent({"type": "deny", "period": {"start": "2026-02-01", "end": "2026-01-01"}}), "Consent.provision.period"),
        (consent({"type": "deny", "period": {"start": "2026-02-01T10:00:00"}}), "Consent.provision.period"),
        (consent({"type": "deny", "dataPeriod": {"start": "soon"}}), "Consent.provision.dataPeriod"),
        (consent({"type": "deny", "dataPeriod": "2026"}), "Consent.provision.dataPeriod"),
        (consent({"type": "deny", "provision": [{"type": "permit"}]}), "Consent.provision.provision[0].actor"),
        (consent({"type": "maybe"}), "Consent.provision.type"),
    ],
)
def test_malformed_directives_are_422_with_a_location(resource: dict[str, Any], location: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        directives_from_consent(resource, CPR_OF.get)
    assert refused.value.details_code == "invalid_consent_directive"
    assert refused.value.location == (location,)


def test_the_example_directives_are_valid_r4(definitions: Definitions) -> None:
    validator = Validator(definitions)
    for resource in (PERSON, HOSPITAL_WITH_UNITS, PERIOD, PAPER):
        assert [i for i in validator.validate(resource) if i.is_error] == []


@pytest.mark.anyio
async def test_a_blocking_consent_resource_hides_data_through_the_gate(world: World) -> None:
    blocks, consents = directives_from_consent(HOSPITAL_WITH_UNITS, CPR_OF.get)
    world.gate.replace_registers(registers(blocks=tuple(blocks), consents=tuple(consents)))
    found = [
        appointment("a1", "Patient/carl", "Organization/medical"),
        appointment("a3", "Patient/carl", "Organization/gp"),
    ]
    shown = await world.search(world.headers("gp", "ESP_APPOINTMENTS"), "Appointment", found)
    assert [r["id"] for r in shown] == ["a3"]
