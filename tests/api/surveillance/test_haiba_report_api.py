"""``$haiba-report`` and ``$haiba-episodes`` over HTTP on both backends: formats, FHIR, drill-down, access."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import LiveServer, token_for
from tests.surveillance.extract.world import blood_case, encounter, mapped_resources, organisations, patient

T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _put(client: httpx.Client, resource: dict[str, object]) -> None:
    response = client.put(f"/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text


@pytest.fixture
def world(client: httpx.Client) -> dict[str, str]:
    """A hospital of its own with one patient who has a hospital-acquired bacteraemia in March 2026."""
    tag = secrets.token_hex(4)
    orgs = organisations()
    for org in orgs:  # give this test's hospital its own ids
        org["id"], org["name"] = f"{org['id']}-{tag}", f"{org['name']} {tag}"
        if "partOf" in org:
            org["partOf"] = {"reference": f"{org['partOf']['reference']}-{tag}"}
        _put(client, org)
    pid = f"p-{tag}"
    _put(client, patient(pid, "1950-04-01", "461"))
    _put(client, encounter(f"e-{tag}", pid, f"ouh-med-{tag}", T, T + timedelta(days=10)))
    case = blood_case(str(secrets.randbelow(10**9) + 10**9), T + timedelta(hours=72), ("ECOL", "Escherichia coli"))
    for resource in mapped_resources(case, "F", pid, refused=True):
        _put(client, resource)
    return {"hospital": f"Odense Universitetshospital {tag}", "patient": pid}


def _cutoff() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def test_csv_html_pdf_and_drill_down(client: httpx.Client, world: dict[str, str]) -> None:
    cutoff = _cutoff()
    params = {"cutoff": cutoff, "level": "hospital", "period": "month"}
    csv_response = client.get("/$haiba-report", params=params | {"format": "csv"})
    assert csv_response.status_code == 200, csv_response.text
    assert csv_response.headers["content-type"].startswith("text/csv")
    line = next(
        x for x in csv_response.text.splitlines() if x.startswith(f"rate,bacteraemia,{world['hospital']},2026-03,")
    )
    assert line.split(",")[4] == "<5"  # one episode: suppressed
    html = client.get("/$haiba-report", params=params | {"format": "html"})
    assert html.status_code == 200 and "<svg" in html.text
    pdf = client.get("/$haiba-report", params=params | {"format": "pdf"})
    again = client.get("/$haiba-report", params=params | {"format": "pdf"})
    assert pdf.content.startswith(b"%PDF") and pdf.content == again.content

    drill = client.get(
        "/$haiba-episodes", params=params | {"infection": "bacteraemia", "area": world["hospital"], "label": "2026-03"}
    )
    assert drill.status_code == 200, drill.text
    episodes = drill.json()["parameter"]
    assert [p["part"][0]["valueReference"]["reference"] for p in episodes] == [f"Patient/{world['patient']}"]


def test_fhir_measure_reports_are_stored_and_searchable(client: httpx.Client, world: dict[str, str]) -> None:
    response = client.get(
        "/$haiba-report", params={"cutoff": _cutoff(), "level": "hospital", "period": "month", "format": "fhir"}
    )
    assert response.status_code == 200, response.text
    types = {e["resource"]["resourceType"] for e in response.json()["entry"]}
    assert types == {"Measure", "MeasureReport"}
    found = client.get("/MeasureReport", params={"measure": "https://bindeled.dk/fhir/Measure/haiba-bacteraemia-haiba"})
    assert found.status_code == 200
    assert found.json().get("total", len(found.json().get("entry", []))) >= 1
    measure = client.get("/Measure/haiba-bacteraemia-haiba")
    assert measure.status_code == 200 and measure.json()["version"].startswith("haiba/2019")


@pytest.mark.parametrize("user", ["doctor", "citizen", "gp"])
def test_clinicians_and_citizens_are_refused(server: LiveServer, user: str) -> None:
    headers = {"Authorization": f"Bearer {token_for(server, user)}", "X-Purpose-Of-Use": "SURVEILLANCE"}
    with httpx.Client(base_url=server.base, timeout=60, headers=headers) as c:
        for path in ("/$haiba-report", "/$haiba-episodes"):
            response = c.get(path, params={"cutoff": _cutoff(), "area": "x", "label": "2026-03"})
            assert response.status_code == 403, response.text


def test_epidemiologist_may(server: LiveServer, world: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {token_for(server, 'epidemiologist')}", "X-Purpose-Of-Use": "SURVEILLANCE"}
    with httpx.Client(base_url=server.base, timeout=60, headers=headers) as c:
        response = c.get("/$haiba-report", params={"cutoff": _cutoff(), "level": "region", "format": "csv"})
    assert response.status_code == 200, response.text


def test_epidemiologist_needs_the_surveillance_purpose(server: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {token_for(server, 'epidemiologist')}", "X-Purpose-Of-Use": "LAB_READ"}
    with httpx.Client(base_url=server.base, timeout=60, headers=headers) as c:
        response = c.get("/$haiba-report", params={"cutoff": _cutoff()})
    assert response.status_code == 403, response.text


def test_anonymous_gets_401(anonymous: httpx.Client) -> None:
    assert anonymous.get("/$haiba-report", params={"cutoff": _cutoff()}).status_code == 401


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({}, "cutoff"),
        ({"cutoff": "yesterday"}, "cutoff"),
        ({"cutoff": "2999-01-01T00:00:00Z"}, "cutoff"),
        ({"cutoff": "2026-01-01T00:00:00Z", "level": "ward"}, "level"),
        ({"cutoff": "2026-01-01T00:00:00Z", "format": "xlsx"}, "format"),
    ],
)
def test_bad_parameters_are_400_with_a_location(client: httpx.Client, params: dict[str, str], where: str) -> None:
    response = client.get("/$haiba-report", params=params)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert where in str(outcome["issue"][0].get("expression", outcome["issue"][0].get("location")))
