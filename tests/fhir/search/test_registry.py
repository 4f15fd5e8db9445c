"""Search parameters compiled from the R4 definitions, and what they extract from official examples."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bindeled.errors import Unprocessable
from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.search import (
    DateValue,
    QuantityValue,
    ReferenceValue,
    SearchRegistry,
    StringValue,
    TokenValue,
    UriValue,
    registry_for,
)


@pytest.fixture(scope="module")
def registry(definitions: Definitions) -> SearchRegistry:
    return registry_for(definitions)


def example(definitions: Definitions, name: str) -> dict[str, Any]:
    return jsonio.decode((definitions.folder / f"{name}.json").read_bytes())


def test_every_official_parameter_is_compiled(definitions: Definitions, registry: SearchRegistry) -> None:
    params = {sp["url"]: registry.by_url(sp["url"]) for sp in definitions.search_parameters}
    assert len(params) == 1375
    assert all(p is not None for p in params.values())
    fallbacks = sorted(f"{p.base[0]}.{p.code}" for p in params.values() if p is not None and not p.compiled)
    # Only expressions beyond paths, where(), as/ofType, exists(), ``and``, boolean comparisons and
    # unions run on fhirpathpy: InsurancePlan's rootless ``name | alias`` and two MolecularSequence
    # composites with a component that starts at ``%resource``.
    assert fallbacks == [
        "InsurancePlan.name",
        "MolecularSequence.chromosome-variant-coordinate",
        "MolecularSequence.referenceseqid-variant-coordinate",
    ]


def test_patient_example(definitions: Definitions, registry: SearchRegistry) -> None:
    found = {
        code: values for code, (_, values) in registry.index("Patient", example(definitions, "Patient-example")).items()
    }
    assert found["family"] == [StringValue("chalmers", "Chalmers"), StringValue("windsor", "Windsor")]
    assert found["given"] == [StringValue("peter", "Peter"), StringValue("james", "James"), StringValue("jim", "Jim")]
    assert found["identifier"][0] == TokenValue("urn:oid:1.2.36.146.595.217.0.1", "12345")
    assert found["identifier"][1] == TokenValue(
        "urn:oid:1.2.36.146.595.217.0.1", "12345", None, "http://terminology.hl7.org/CodeSystem/v2-0203", "MR"
    )
    # A code with a required binding to one code system carries that system.
    assert found["gender"] == [TokenValue("http://hl7.org/fhir/administrative-gender", "male")]
    assert found["active"] == [TokenValue(None, "true")]
    assert found["deceased"] == [TokenValue(None, "false")]
    # 1974-12-25 is a whole day in Danish time (UTC+1 in winter).
    assert found["birthdate"] == [DateValue("1974-12-24T23:00:00.000000", "1974-12-25T23:00:00.000000")]
    assert found["organization"] == [ReferenceValue("Organization", "1")]
    assert found["phone"][0] == TokenValue(None, "(03) 5555 6473")
    assert "email" not in found
    assert found["_id"] == [TokenValue(None, "example")]


def test_observation_choice_types_and_components(definitions: Definitions, registry: SearchRegistry) -> None:
    bp = example(definitions, "Observation-blood-pressure")
    found = {code: values for code, (_, values) in registry.index("Observation", bp).items()}
    assert found["subject"] == [ReferenceValue("Patient", "example")]
    assert found["patient"] == [ReferenceValue("Patient", "example")]
    assert found["based-on"] == [ReferenceValue(None, None, None, "https://acme.org/identifiers", "1234")]
    assert found["_profile"] == [UriValue("http://hl7.org/fhir/StructureDefinition/vitalsigns")]
    assert found["date"] == [DateValue("2012-09-16T22:00:00.000000", "2012-09-17T22:00:00.000000")]
    systolic = QuantityValue(Decimal(107), Decimal(107), "http://unitsofmeasure.org", "mm[Hg]", "mmHg")
    assert found["component-value-quantity"][0] == systolic
    assert "value-quantity" not in found  # the panel itself has no value
    assert {v.code for v in found["component-code"]} >= {"8480-6", "8462-4"}  # type: ignore[union-attr]


def test_where_resolve_is_filters_by_target_type(registry: SearchRegistry) -> None:
    obs = {"resourceType": "Observation", "subject": {"reference": "Group/g1"}, "status": "final", "code": {}}
    assert "patient" not in registry.index("Observation", obs)
    assert registry.index("Observation", obs)["subject"][1] == [ReferenceValue("Group", "g1")]


def test_period_and_timing_dates(registry: SearchRegistry) -> None:
    enc = {"resourceType": "Encounter", "period": {"start": "2020-01-01T10:00:00Z"}}
    assert registry.index("Encounter", enc)["date"][1] == [
        DateValue("2020-01-01T10:00:00.000000", "9999-12-31T23:59:59.999999")
    ]
    req = {
        "resourceType": "ServiceRequest",
        "occurrenceTiming": {"event": ["2021-05-01T08:00:00Z", "2021-05-03T08:00:00Z"]},
    }
    assert registry.index("ServiceRequest", req)["occurrence"][1] == [
        DateValue("2021-05-01T08:00:00.000000", "2021-05-03T08:00:01.000000")
    ]


def test_custom_search_parameter(definitions: Definitions) -> None:
    registry = SearchRegistry(definitions)
    registry.register(
        {
            "resourceType": "SearchParameter",
            "url": "http://example.org/SearchParameter/patient-birthplace",
            "code": "birthplace",
            "base": ["Patient"],
            "type": "string",
            "expression": "Patient.extension.where(url='http://hl7.org/fhir/StructureDefinition/patient-birthPlace').value.city",
        }
    )
    patient = {
        "resourceType": "Patient",
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                "valueAddress": {"city": "Ærøskøbing"},
            }
        ],
    }
    assert registry.index("Patient", patient)["birthplace"][1] == [StringValue("aeroskobing", "Ærøskøbing")]
    assert registry.get("Patient", "birthplace") is not None
    assert registry_for(definitions).get("Patient", "birthplace") is None  # the shared registry is untouched


@pytest.mark.parametrize(
    "bad",
    [
        {"resourceType": "Patient"},
        {"resourceType": "SearchParameter", "base": ["Patient"], "type": "string", "expression": "Patient.name"},
        {
            "resourceType": "SearchParameter",
            "code": "x",
            "base": ["Nope"],
            "type": "string",
            "expression": "Patient.name",
        },
        {"resourceType": "SearchParameter", "code": "x", "base": ["Patient"], "type": "string"},
        {"resourceType": "SearchParameter", "code": "x", "base": ["Patient"], "type": "fancy", "expression": "a"},
    ],
)
def test_custom_search_parameter_is_checked(definitions: Definitions, bad: dict[str, Any]) -> None:
    with pytest.raises(Unprocessable):
        SearchRegistry(definitions).register(bad)
