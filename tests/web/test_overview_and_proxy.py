"""The clinician's overview page is the ``$overview`` service's answer; a proxy chooses whom they act for."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from bindeled.demo.patients import synthetic_citizens
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from bindeled.security.devissuer import DemoUser, LocalIssuer, demo_user
from bindeled.web.pages_session import PORTAL_CITIZEN_SCOPE
from bindeled.web.session_cookie import CookieSigner, WebSession
from tests.api.conftest import LiveServer, token_for
from tests.web.conftest import CARL, CARL_CPR, PageClient


def _overview_reasons(web_server: LiveServer, purpose: str) -> set[str]:
    headers = {"Authorization": f"Bearer {token_for(web_server, 'nurse')}", "X-Purpose-Of-Use": purpose}
    answer = httpx.get(f"{web_server.base}/Patient/{CARL}/$overview", headers=headers, timeout=60)
    assert answer.status_code == 200
    return {p["resource"]["reasonCode"][0]["text"] for p in answer.json()["parameter"] if p["name"] == "appointment"}


def test_the_page_shows_what_the_overview_service_answers(pages: PageClient, web_server: LiveServer) -> None:
    reasons = _overview_reasons(web_server, "ESP_APPOINTMENTS")
    assert reasons == {"Sårpleje", "Ambulant kontrol", "Årskontrol"}
    pages.login("nurse", ("ESP_APPOINTMENTS",))
    page = pages.get(f"/patient/{CARL}").text
    assert all(reason in page for reason in reasons)
    assert "Tidligere kontrol" not in page  # a past appointment is in the store, but not in the overview
    # Under ESP_APPOINTMENTS the overview leaves the card's relatives and the plans out, and says why.
    assert "Dorte Demo Pårørende" not in page and "Genoptræningsplan" not in page
    assert page.count("dine valgte formål dækker ikke disse oplysninger") >= 3  # relatives, plans, lab


def test_a_page_view_leaves_one_minlog_entry_for_the_overview(site: str) -> None:
    nurse, citizen = PageClient(site), PageClient(site)
    try:
        citizen.login("citizen")
        before = citizen.get("/me/log").text.count("Nanna Demo")
        nurse.login("nurse", ("ESP_APPOINTMENTS",))
        assert nurse.get(f"/patient/{CARL}").status_code == 200
        after = citizen.get("/me/log").text.count("Nanna Demo")
        # The overview in one call (one entry) plus the messages section beside it, read under its own purpose
        # only when chosen: ESP_PLANS was not, so nothing else was read.
        assert after - before == 1
    finally:
        nurse.close()
        citizen.close()


def _proxy_for_two(web_server: LiveServer, other_cpr: str) -> str:
    """A session cookie of a proxy holding powers of attorney for Carl and one more citizen."""
    proxy = demo_user("proxy")
    claims = {**proxy.claims, "represents": [CARL_CPR, other_cpr]}
    user = DemoUser("proxy", claims, proxy.scope + PORTAL_CITIZEN_SCOPE)
    issuer = LocalIssuer(Path(web_server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    token = issuer.mint(user, now=datetime.now(UTC))
    return CookieSigner.in_folder(Path(web_server.settings.data_dir)).dump(WebSession(user="proxy", token=token))


def test_a_proxy_for_several_citizens_chooses_whom_they_act_for(pages: PageClient, web_server: LiveServer) -> None:
    other = next(iter(synthetic_citizens(12, seed=3)))[0]
    other_cpr, other_id = other["identifier"][0]["value"], other["id"]
    other_name = " ".join([*other["name"][0]["given"], other["name"][0]["family"]])
    pages.cookie = _proxy_for_two(web_server, other_cpr)
    first = pages.get("/me")
    assert first.status_code == 200 and 'id="acting-for"' in first.text
    assert f'value="{other_id}"' in first.text and f'value="{CARL}"' in first.text
    assert other_cpr not in first.text.split('id="acting-for"')[1].split("</form>")[0]  # ids, never CPR numbers
    chosen = pages.follow(pages.post("/me/acting-for", {"patient": other_id}))
    assert f"{other_name}</h1>" in chosen.text and f'value="{other_id}" selected' in chosen.text
    back = pages.follow(pages.post("/me/acting-for", {"patient": CARL}))
    assert "Carl Demo Borger</h1>" in back.text
    refused = pages.post("/me/acting-for", {"patient": "someone-else"})
    assert refused.status_code == 400
    assert "Carl Demo Borger</h1>" in pages.get("/me").text  # the refused choice changed nothing


def test_a_proxy_for_one_citizen_gets_no_chooser(pages: PageClient) -> None:
    me = pages.login("proxy")
    assert "Carl Demo Borger" in me.text and 'id="acting-for"' not in me.text
