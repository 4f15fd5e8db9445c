"""The rollout view over HTTP: the operators' page and JSON, the API, and the administrators' register."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer, token_for
from tests.web.conftest import PageClient


def _api(web_server: LiveServer, user: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for(web_server, user)}"}
    return httpx.Client(base_url=f"{web_server.base}", headers=headers, timeout=60)


def _org(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in view["organisations"] if o["name"] == name)


def _service(org: dict[str, Any], service: str) -> dict[str, Any]:
    return next(s for s in org["services"] if s["service"] == service)


def _checks(service: dict[str, Any]) -> dict[str, bool]:
    return {c["check"]: c["passed"] for c in service["checks"]}


@pytest.fixture(scope="module")
def rollout(web_server: LiveServer) -> dict[str, Any]:
    with _api(web_server, "operator") as api:
        answer = api.get("/$rollout")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    found: dict[str, Any] = answer.json()
    return found


def test_the_demo_mix_is_derived_from_registers_hub_and_plans(rollout: dict[str, Any]) -> None:
    municipalities = [o for o in rollout["organisations"] if o["kind"] == "municipality"]
    assert len(municipalities) == 22
    statuses = {_service(o, "overview")["status"] for o in municipalities}
    assert statuses == {"live", "ready", "not_ready"}
    for org in municipalities:
        overview = _service(org, "overview")
        if overview["status"] == "ready":
            assert all(_checks(overview).values())
        if overview["status"] == "not_ready":
            assert not all(_checks(overview).values())
    tested = [o for o in municipalities if _checks(_service(o, "messaging"))["test_message"]]
    assert tested, "the demo's test exchanges pass the hub"
    region = _org(rollout, "Region Syddanmark")
    assert region["kind"] == "region" and _checks(_service(region, "messaging"))["test_message"]
    live = {m["name"]: m["live"] for m in rollout["municipalities"]}
    assert len(live) == 22 and any(live.values()) and not all(live.values())
    for org in municipalities:
        shown = {s["service"] for s in org["services"] if s["status"] == "live"}
        assert set(live[org["name"]]) == shown


def test_operator_sees_the_rollout_page_and_downloads_it(site: str) -> None:
    pages = PageClient(site)
    try:
        pages.login("operator")
        page = pages.get("/rollout")
        assert page.status_code == 200 and 'id="municipality-rollout"' in page.text
        assert "Odense Kommune" in page.text and "Tillidsaftale registreret" in page.text
        assert "I drift" in page.text and "Ikke klar" in page.text
        practices = pages.get("/rollout", kind="practice")
        assert practices.status_code == 200 and "Lægepraksis" in practices.text
        assert pages.get("/rollout", kind="planet").status_code == 400
        download = pages.get("/rollout.json")
        assert download.status_code == 200 and len(json.loads(download.text)["municipalities"]) == 22
        pages.post("/language", {"to": "en", "next": "/rollout"})
        assert "Trust agreement registered" in pages.get("/rollout").text
    finally:
        pages.close()


def test_staff_see_neither_the_page_nor_the_api(site: str, web_server: LiveServer) -> None:
    pages = PageClient(site)
    try:
        pages.login("nurse", ("ESP_APPOINTMENTS",))
        assert pages.get("/rollout").status_code == 403
    finally:
        pages.close()
    with _api(web_server, "nurse") as api:
        refused = api.get("/$rollout", headers={"X-Purpose-Of-Use": "ESP_APPOINTMENTS"})
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"


def test_administrators_keep_the_plans_and_the_view_follows(web_server: LiveServer, rollout: dict[str, Any]) -> None:
    org = next(o for o in rollout["organisations"] if o["kind"] == "municipality" and not
               any(s["status"] == "live" for s in o["services"]))  # fmt: skip
    path = f"/$rollout-plans/{org['sor']}/lab"
    with _api(web_server, "admin") as admin, _api(web_server, "operator") as operator:
        assert operator.put(path, json={"live": True}).status_code == 403
        created = admin.put(path, json={"planned_go_live": "2027-05-01", "note": "pilot"})
        assert created.status_code == 201 and created.json()["planned_go_live"] == "2027-05-01"
        assert admin.put(path, json={"live": True}).status_code == 200
        after = operator.get("/$rollout").json()
        assert _service(_org(after, org["name"]), "lab")["status"] == "live"
        assert "lab" in next(m for m in after["municipalities"] if m["name"] == org["name"])["live"]
        listed = admin.get("/$rollout-plans").json()["plans"]
        assert any(p["organisation_sor"] == org["sor"] and p["service"] == "lab" and p["live"] for p in listed)
        bad = admin.put(path, json={"planned_go_live": "next spring"})
        assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["planned_go_live"]
        assert admin.put(f"/$rollout-plans/{org['sor']}/fmk", json={}).status_code == 400
        assert admin.delete(path).status_code == 204
        assert admin.delete(path).status_code == 404
        again = operator.get("/$rollout").json()
        assert _service(_org(again, org["name"]), "lab")["status"] != "live"


def test_registering_a_system_client_makes_the_check_pass(web_server: LiveServer, rollout: dict[str, Any]) -> None:
    org = next(
        o for o in rollout["organisations"]
        if o["kind"] == "municipality" and not _checks(_service(o, "lab"))["system_client"]
    )  # fmt: skip
    with _api(web_server, "admin") as admin, _api(web_server, "operator") as operator:
        client = {
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]},
            "system_name": "Test EOJ",
            "organisation_sor": org["sor"],
            "purposes": ["LAB_READ"],
        }
        assert admin.put(f"/$security-registers/clients/rollout-test-{org['sor']}", json=client).status_code == 201
        after = operator.get("/$rollout").json()
        assert _checks(_service(_org(after, org["name"]), "lab"))["system_client"]
        assert admin.delete(f"/$security-registers/clients/rollout-test-{org['sor']}").status_code == 204
