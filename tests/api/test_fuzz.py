"""Malformed input never gives a 500 and never leaves a partial write.

Two attacks: Hypothesis builds broken resources, bundles and patches aimed at the REST API, and
schemathesis walks the OpenAPI document the server publishes, fuzzing every interaction of a few
resource types. After each failed request the system history must not have grown.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.api.openapi import openapi_document
from bindeled.fhir.definitions import Definitions

JSON_HEADERS = {"Content-Type": "application/fhir+json"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

GOOD_PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "name": [{"family": "Fuzz", "given": ["Test"]}],
    "gender": "female",
    "birthDate": "1980-02-03",
    "identifier": [{"system": "urn:fuzz", "value": "x"}],
}


@st.composite
def mutated_patients(draw: st.DrawFn) -> dict[str, Any]:
    """A valid Patient with one element replaced, added or given the wrong shape."""
    patient = json.loads(json.dumps(GOOD_PATIENT))
    key = draw(st.sampled_from([*GOOD_PATIENT.keys(), "active", "deceasedBoolean", "contact", "unknown", "_gender"]))
    patient[key] = draw(json_values)
    return patient


def _versions(client: httpx.Client) -> int:
    return int(client.get("/_history", params={"_count": "1"}).json()["total"])


def _assert_clean_failure(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"] and all(i.get("diagnostics") for i in outcome["issue"])


_fuzz = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@_fuzz
@given(body=mutated_patients() | json_values.map(lambda v: {"resourceType": "Patient", "x": v}))
def test_broken_resources(client: httpx.Client, body: dict[str, Any]) -> None:
    before = _versions(client)
    response = client.post("/Patient", content=json.dumps(body), headers=JSON_HEADERS)
    _assert_clean_failure(response)
    if response.status_code >= 400:
        assert _versions(client) == before


@_fuzz
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_garbage_bodies(client: httpx.Client, raw: bytes) -> None:
    for content_type in ("application/fhir+json", "application/fhir+xml"):
        before = _versions(client)
        response = client.post("/", content=raw, headers={"Content-Type": content_type})
        _assert_clean_failure(response)
        assert response.status_code >= 400
        assert _versions(client) == before


@_fuzz
@given(bad=mutated_patients(), position=st.integers(0, 3))
def test_transactions_with_one_bad_entry_write_nothing(
    client: httpx.Client, bad: dict[str, Any], position: int
) -> None:
    entries = [{"resource": GOOD_PATIENT, "request": {"method": "POST", "url": "Patient"}} for _ in range(3)]
    entries.insert(position, {"resource": bad, "request": {"method": "POST", "url": "Patient"}})
    before = _versions(client)
    response = client.post(
        "/", json={"resourceType": "Bundle", "type": "transaction", "entry": entries}, headers=JSON_HEADERS
    )
    _assert_clean_failure(response)
    if response.status_code != 200:
        assert _versions(client) == before
    else:
        assert _versions(client) == before + 4


@_fuzz
@given(ops=json_values)
def test_broken_json_patches(client: httpx.Client, ops: Any) -> None:
    id_ = client.post("/Patient", json=GOOD_PATIENT, headers=JSON_HEADERS).json()["id"]
    response = client.patch(
        f"/Patient/{id_}", content=json.dumps(ops), headers={"Content-Type": "application/json-patch+json"}
    )
    _assert_clean_failure(response)


def test_schema_driven_fuzz(server: Any, definitions: Definitions, admin_headers: dict[str, str]) -> None:
    """Every interaction of a few types, with inputs generated from the published OpenAPI document."""
    document = openapi_document(definitions, server.base)
    wanted = ("/Patient", "/Observation", "/Encounter")
    paths = {p: v for p, v in document["paths"].items() if p == "/" or p.startswith(wanted)}
    schema = schemathesis.openapi.from_dict({**document, "paths": paths})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25

    for operation in operations:
        _fuzz_operation(operation, server.base, admin_headers)


def _fuzz_operation(operation: Any, base: str, headers: dict[str, str]) -> None:
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=base, headers=headers)
        assert response.status_code < 500, (operation.label, response.text[:500])

    run()
