"""``$validate`` over HTTP with wrongly typed JSON: an OperationOutcome with issues, never a 500.

The official Patient example with one value replaced by a value of another JSON type (a list
where a string belongs, a number for ``meta.profile`` …) is posted bare and wrapped in Parameters.
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings

from bindeled.fhir.jsonio import decode
from tests.conftest import SHARED
from tests.fhir.validation.mutations import mutated

JSON = {"Content-Type": "application/fhir+json"}
PATIENT: dict[str, Any] = decode((SHARED / "testdata/fhir-r4-examples/Patient-example.json").read_bytes())

_http = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _assert_outcome(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, response.text[:500]
    outcome: dict[str, Any] = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome


def test_named_wrong_types_are_issues_with_locations(client: httpx.Client) -> None:
    patient = {**PATIENT, "meta": {"profile": 3}, "birthDate": ["1974-12-25"]}
    response = client.post("/Patient/$validate", json=patient, headers=JSON)
    assert response.status_code == 200
    located = {(i["severity"], i["expression"][0]) for i in _assert_outcome(response)["issue"] if "expression" in i}
    assert {("error", "Patient.meta.profile"), ("error", "Patient.birthDate")} <= located


@_http
@given(case=mutated(PATIENT))
def test_mutated_patient_is_answered_with_issues(
    client: httpx.Client, case: tuple[dict[str, Any], tuple[str | int, ...]]
) -> None:
    broken, path = case
    response = client.post("/Patient/$validate", json=broken, headers=JSON)
    outcome = _assert_outcome(response)
    # 400 when the body is no FHIR JSON at all (a wrong resourceType, a null); 200 with issues else
    assert response.status_code == (400 if path == ("resourceType",) else response.status_code)
    assert response.status_code in (200, 400), (path, response.text[:300])
    assert outcome["issue"]


@_http
@given(case=mutated({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": PATIENT}]}))
def test_mutated_parameters_are_answered_without_a_server_error(
    client: httpx.Client, case: tuple[dict[str, Any], tuple[str | int, ...]]
) -> None:
    broken, _path = case
    _assert_outcome(client.post("/Patient/$validate", json=broken, headers=JSON))
