"""Resource → policy target: citizen, source organisation, service time; SOR author institutions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bindeled.security import AuthorInstitutionNotSor, require_sor_institution, target_of
from bindeled.security.facts import CPR_SYSTEM, SOR_SYSTEM
from tests.security.world import CARL, CPR_OF, GP_PRACTICE, MEDICAL, ORGS, appointment, medication


def target(resource: dict[str, object]):  # type: ignore[no-untyped-def]
    return target_of(resource, CPR_OF.get, ORGS.get)


def test_an_appointment() -> None:
    found = target(appointment("a1", "Patient/carl", "Organization/medical"))
    assert (found.citizen, found.organisation_sor, found.patient_ref) == (CARL, MEDICAL, "Patient/carl")
    assert found.service_time == datetime(2026, 2, 20, 9, 0, tzinfo=timezone(timedelta(hours=1)))


def test_a_medication_statement_with_a_date() -> None:
    found = target(medication("m1", "Patient/carl", "Organization/gp"))
    assert (found.citizen, found.organisation_sor) == (CARL, GP_PRACTICE)
    assert found.service_time == datetime(2026, 1, 10, tzinfo=UTC)


def test_a_patient_is_its_own_citizen() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "carl",
        "identifier": [{"system": "other", "value": "x"}, {"system": CPR_SYSTEM, "value": CARL}],
        "managingOrganization": {"identifier": {"system": SOR_SYSTEM, "value": GP_PRACTICE}},
    }
    found = target(patient)
    assert (found.citizen, found.organisation_sor, found.patient_ref) == (CARL, GP_PRACTICE, "Patient/carl")


def test_logical_references_and_periods() -> None:
    encounter = {
        "resourceType": "Encounter",
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": CARL}},
        "serviceProvider": {"reference": "Organization/unknown"},
        "participant": [{"individual": {"identifier": {"system": SOR_SYSTEM, "value": MEDICAL}}}],
        "period": {"start": "2026-01-05T08:00:00Z"},
    }
    found = target(encounter)
    assert (found.citizen, found.organisation_sor, found.patient_ref) == (CARL, MEDICAL, None)
    assert found.service_time == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_data_about_no_citizen() -> None:
    found = target({"resourceType": "Organization", "id": "o"})
    assert (found.citizen, found.organisation_sor, found.service_time) == (None, None, None)
    odd = {"resourceType": "Observation", "subject": {"reference": "Group/1"}, "issued": "not a date", "performer": [1]}
    assert target(odd).citizen is None and target(odd).service_time is None
    local = {"resourceType": "Observation", "effectiveDateTime": "2026-01-05T08:00:00"}
    assert target(local).service_time is None


def test_author_institutions_must_be_sor_codes() -> None:
    assert require_sor_institution({"system": SOR_SYSTEM, "value": MEDICAL}, "author") == MEDICAL
    for bad in (
        None,
        {"system": "urn:oid:1.2.208.176.1.6.1.1", "value": "12345678"},
        {"system": SOR_SYSTEM, "value": "12345678"},
        {"system": SOR_SYSTEM, "value": 7},
    ):
        with pytest.raises(AuthorInstitutionNotSor) as refused:
            require_sor_institution(bad, "Composition.author")
        assert (refused.value.status, refused.value.details_code) == (422, "author_institution_not_sor")
        assert refused.value.location == ("Composition.author",)
