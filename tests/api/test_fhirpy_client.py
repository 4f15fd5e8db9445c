"""The interactions driven by a real FHIR client library (fhirpy), as an integrating system would."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fhirpy import AsyncFHIRClient, SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound


def test_sync_client_crud(server: Any, admin_headers: dict[str, str]) -> None:
    fhir = SyncFHIRClient(server.base, extra_headers={"Accept": "application/fhir+json", **admin_headers})
    marker = str(uuid.uuid4())
    patient = fhir.resource(
        "Patient",
        identifier=[{"system": "urn:fhirpy", "value": marker}],
        name=[{"family": "Klientsen", "given": ["Fhirpy"]}],
        gender="male",
    )
    patient.save()
    assert patient.id and patient["meta"]["versionId"] == "1"

    fetched = fhir.reference("Patient", patient.id).to_resource()
    assert fetched["name"][0]["family"] == "Klientsen"

    fetched["gender"] = "female"
    fetched.save()
    assert fetched["meta"]["versionId"] == "2"

    found = fhir.resources("Patient").search(identifier=f"urn:fhirpy|{marker}").fetch_all()
    assert [p.id for p in found] == [patient.id]

    fetched.delete()
    try:
        fhir.reference("Patient", patient.id).to_resource()
    except (ResourceNotFound, OperationOutcome):
        pass
    else:  # pragma: no cover - the assertion below explains the failure
        raise AssertionError("a deleted resource must not be readable")


def test_async_client_create_and_search(server: Any, admin_headers: dict[str, str]) -> None:
    async def scenario() -> None:
        fhir = AsyncFHIRClient(server.base, extra_headers={"Accept": "application/fhir+json", **admin_headers})
        marker = str(uuid.uuid4())
        created = []
        for i in range(3):
            obs = fhir.resource(
                "Observation",
                status="final",
                identifier=[{"system": "urn:fhirpy", "value": f"{marker}-{i}"}],
                code={"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                valueQuantity={"value": 60 + i, "unit": "/min"},
            )
            await obs.save()
            created.append(obs.id)
        bad = fhir.resource("Observation", status="not-a-status", code={"text": "x"})
        try:
            await bad.save()
        except OperationOutcome as exc:
            assert "status" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("an invalid resource must be refused")
        for id_ in created:
            assert (await fhir.reference("Observation", id_).to_resource())["status"] == "final"

    asyncio.run(scenario())
