"""The pages over HTTP: login, purposes, lookup, overview, edits, emergency access, the citizen's log and blocks."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from bindeled.web.session_cookie import CookieSigner, WebSession
from tests.api.conftest import LiveServer
from tests.web.conftest import CARL, CARL_CPR, DEAD_LETTER, PageClient


def test_home_is_danish_with_security_headers_and_english_on_request(pages: PageClient) -> None:
    home = pages.get("/")
    assert home.status_code == 200
    assert '<html lang="da">' in home.text and "Spring til indhold" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    cookie = home.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    switched = pages.follow(pages.post("/language", {"to": "en", "next": "/"}))
    assert '<html lang="en">' in switched.text and "Skip to content" in switched.text


def test_demo_login_lists_users_and_forms_need_the_csrf_token(pages: PageClient) -> None:
    login = pages.get("/login")
    assert 'id="login-nurse"' in login.text and 'id="login-citizen"' in login.text
    forged = pages.post("/login", {"username": "admin", "csrf": "forged"})
    assert forged.status_code == 403 and "csrf" in forged.text
    assert pages.post("/login", {"username": "admin"}, csrf=False).status_code == 403
    assert pages.post("/login", {"username": "admin", "csrf": "æøå"}).status_code == 403


def test_tampered_session_cookie_is_ignored(pages: PageClient) -> None:
    pages.login("citizen")
    assert pages.get("/me").status_code == 200
    assert pages.cookie is not None
    pages.cookie = pages.cookie[:-3] + ("AAA" if not pages.cookie.endswith("AAA") else "BBB")
    refused = pages.get("/me")
    assert refused.status_code == 303 and refused.headers["location"] == "/login"


def test_nurse_finds_the_citizen_by_cpr_in_a_post_body_and_sees_the_overview(pages: PageClient) -> None:
    landed = pages.login("nurse", ("ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS"))
    assert "Find borger" in landed.text
    found = pages.post("/find", {"query": f"{CARL_CPR[:6]}-{CARL_CPR[6:]}"})
    assert found.status_code == 200 and f'href="/patient/{CARL}"' in found.text
    assert CARL_CPR not in str(found.request.url)
    overview = pages.get(f"/patient/{CARL}")
    assert overview.status_code == 200
    text = overview.text
    for expected in ("Carl Demo Borger", "Sårpleje", "Ambulant kontrol", "Årskontrol", "Dorte Demo Pårørende"):
        assert expected in text
    assert "Genoptræningsplan efter indlæggelse" in text and "<svg" in text
    # Lab results need LAB_READ, which the nurse did not choose: explained, not hidden silently.
    assert "dine valgte formål dækker ikke disse oplysninger" in text
    assert "P-Hæmoglobin" not in text


def test_helper_without_trust_agreement_for_lab_gets_the_reason(pages: PageClient) -> None:
    pages.login("sosu", ("ESP_APPOINTMENTS", "LAB_READ"))
    overview = pages.get(f"/patient/{CARL}")
    assert overview.status_code == 200
    assert "din enhed har ingen tillidsaftale, der dækker formålet" in overview.text
    assert "P-Hæmoglobin" not in overview.text


def test_search_by_name_and_unknown_citizen(pages: PageClient) -> None:
    pages.login("doctor", ("ESP_APPOINTMENTS",))
    assert f'href="/patient/{CARL}"' in pages.post("/find", {"query": "Borger"}).text
    assert "Ingen borgere fundet" in pages.post("/find", {"query": "Ingensinde Findes"}).text
    missing = pages.get("/patient/no-such-citizen")
    assert missing.status_code == 404


def test_staff_page_without_login_redirects_to_login(pages: PageClient) -> None:
    response = pages.get("/find")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "Du skal logge ind" in pages.follow(response).text


def test_citizen_cannot_use_staff_pages(pages: PageClient) -> None:
    pages.login("citizen")
    refused = pages.get("/find")
    assert refused.status_code == 403 and "siden er kun for sundhedspersoner" in refused.text


def test_emergency_access_needs_a_reason_and_is_marked_and_logged(pages: PageClient, site: str) -> None:
    pages.login("doctor", ("ESP_APPOINTMENTS", "LAB_READ"))
    form = pages.get(f"/patient/{CARL}/emergency")
    assert form.status_code == 200 and 'name="reason"' in form.text
    missing = pages.post(f"/patient/{CARL}/emergency", {"reason": ""})
    assert missing.status_code == 422 and "Du skal vælge en begrundelse" in missing.text
    granted = pages.follow(pages.post(f"/patient/{CARL}/emergency", {"reason": "not_contactable"}))
    assert "VÆRDISPRING AKTIVT" in granted.text and 'id="emergency-banner"' in granted.text
    ended = pages.follow(pages.post("/emergency/end", {"next": f"/patient/{CARL}"}))
    assert "VÆRDISPRING AKTIVT" not in ended.text
    citizen = PageClient(site)
    try:
        citizen.login("citizen")
        log = citizen.get("/me/log")
        assert "Henrik Demo Overlæge" in log.text and "Værdispring" in log.text
    finally:
        citizen.close()


def test_citizen_log_filters_by_reader_and_date(pages: PageClient) -> None:
    staff = pages
    staff.login("gp", ("ESP_APPOINTMENTS",))
    assert staff.get(f"/patient/{CARL}").status_code == 200
    staff.post("/logout")
    staff.login("citizen")
    everyone = staff.get("/me/log")
    assert "Gitte Demo Praktiserende" in everyone.text
    only_gp = staff.get("/me/log", reader="gitte")
    names = set(re.findall(r"<td>([^<]*Demo[^<]*)</td>", only_gp.text))
    assert names == {"Gitte Demo Praktiserende"}
    assert "Ingen opslag i perioden" in staff.get("/me/log", to="2001-01-01").text
    bad = staff.get("/me/log", **{"from": "yesterday"})
    assert bad.status_code == 422 and "ÅÅÅÅ-MM-DD" in bad.text


def test_citizen_block_hides_lab_results_until_withdrawn_and_emergency_reveals_them(site: str) -> None:
    citizen, doctor = PageClient(site), PageClient(site)
    try:
        citizen.login("citizen")
        doctor.login("doctor", ("LAB_READ",))
        assert "P-Hæmoglobin" in doctor.get(f"/patient/{CARL}").text
        created = citizen.follow(citizen.post("/me/blocks", {"kind": "lab", "target": ""}))
        assert "Dit valg er registreret" in created.text and "Observation, DiagnosticReport" in created.text
        hidden = doctor.get(f"/patient/{CARL}").text
        assert "P-Hæmoglobin" not in hidden and "Ingen prøvesvar eller målinger" in hidden
        doctor.post(f"/patient/{CARL}/emergency", {"reason": "vital_interest"})
        assert "P-Hæmoglobin" in doctor.get(f"/patient/{CARL}").text
        doctor.post("/emergency/end", {"next": "/find"})
        consent_id = re.search(r'action="/me/blocks/([^/]+)/withdraw"', created.text)
        assert consent_id is not None
        citizen.get("/me/blocks")
        withdrawn = citizen.follow(citizen.post(f"/me/blocks/{consent_id.group(1)}/withdraw"))
        assert "Trukket tilbage" in withdrawn.text
        assert "P-Hæmoglobin" in doctor.get(f"/patient/{CARL}").text
    finally:
        citizen.close()
        doctor.close()


def test_block_needs_a_valid_target(pages: PageClient) -> None:
    pages.login("citizen")
    pages.get("/me/blocks")
    refused = pages.post("/me/blocks", {"kind": "organisation", "target": "not-a-sor-code"})
    assert refused.status_code == 422 and "SOR-kode" in refused.text


def test_citizen_overview_shows_own_data_without_editing(pages: PageClient) -> None:
    me = pages.login("citizen")
    assert "Carl Demo Borger" in me.text and "P-Hæmoglobin" in me.text
    assert "/phone" not in me.text and "emergency-link" not in me.text


def test_nurse_with_a_treatment_relation_edits_the_card(pages: PageClient) -> None:
    pages.login("nurse", ("ESP_STAMKORT",))
    overview = pages.get(f"/patient/{CARL}")
    assert 'action="/patient/web-carl/phone"' in overview.text
    invalid = pages.follow(pages.post(f"/patient/{CARL}/phone", {"phone": "call me"}))
    assert "Værdien er ikke gyldig" in invalid.text
    saved = pages.follow(pages.post(f"/patient/{CARL}/phone", {"phone": "+45 22 33 44 55"}))
    assert "Ændringen er gemt" in saved.text and "+45 22 33 44 55" in saved.text
    added = pages.post(f"/patient/{CARL}/relative", {"name": "Bo Demo Søn", "relation": "Søn", "phone": "+4512121212"})
    text = pages.follow(added).text
    assert "Bo Demo Søn (Søn)" in text and "Dorte Demo Pårørende (Ægtefælle)" in text


def test_operator_sees_no_citizen_overview(pages: PageClient) -> None:
    pages.login("operator")
    refused = pages.get(f"/patient/{CARL}")
    assert refused.status_code == 403 and "Carl" not in refused.text


def test_metrics_use_route_templates_never_raw_paths(site: str, pages: PageClient) -> None:
    pages.login("nurse", ("ESP_APPOINTMENTS",))
    pages.post("/find", {"query": CARL_CPR})
    pages.get(f"/patient/{CARL}")
    metrics = httpx.get(f"{site}/metrics", timeout=30)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'route="/patient/{id}"' in text and "bindeled_uptime_seconds" in text
    assert "bindeled_http_request_duration_seconds_bucket" in text
    assert CARL not in text and CARL_CPR not in text


def test_static_assets_are_served_by_bindeled(site: str) -> None:
    css = httpx.get(f"{site}/static/bindeled.css", timeout=30)
    assert css.status_code == 200 and ":focus-visible" in css.text


def test_operator_sees_traffic_and_replays_a_dead_letter(pages: PageClient) -> None:
    pages.login("operator")
    page = pages.get("/operations")
    assert page.status_code == 200 and DEAD_LETTER in page.text and "HospitalNotification" in page.text
    assert re.search(rf"<td>{DEAD_LETTER}</td>.*?<td class=\"copies\">1</td>", page.text, re.S)
    assert 'id="health"' in page.text
    missing = pages.post("/operations/replay", {"message_id": "no-such-letter", "acknowledgement": "false"})
    assert missing.status_code == 404
    replayed = pages.follow(pages.post("/operations/replay", {"message_id": DEAD_LETTER, "acknowledgement": "false"}))
    assert "Meddelelsen er sat i kø igen" in replayed.text
    # Gone from the list, or (the delivery worker already gave up on the unknown receiver again) in a new envelope.
    row = re.search(rf"<td>{DEAD_LETTER}</td>.*?<td class=\"copies\">(\d+)</td>", replayed.text, re.S)
    assert row is None or row.group(1) == "2"


def test_staff_cannot_open_the_operator_pages(pages: PageClient) -> None:
    pages.login("nurse", ("ESP_APPOINTMENTS",))
    assert pages.get("/operations").status_code == 403
    assert pages.get("/indicators").status_code == 403


def test_operator_indicators_count_overview_use_per_municipality(pages: PageClient, site: str) -> None:
    nurse = PageClient(site)
    try:
        nurse.login("nurse", ("ESP_APPOINTMENTS",))
        for _ in range(2):  # each view is several audited accesses: enough not to be a small cell
            assert nurse.get(f"/patient/{CARL}").status_code == 200
    finally:
        nurse.close()
    pages.login("operator")
    page = pages.get("/indicators")
    assert page.status_code == 200 and "Odense Kommune" in page.text and "<svg" in page.text
    rows = pages.get("/indicators.csv").text.splitlines()
    assert rows[0].startswith("id,definition_version,period_start,period_end,geography_level")
    odense = next(r for r in rows if "Odense Kommune" in r).split(",")
    assert odense[0] == "bindeled.overview-use" and odense[4] == "municipality"
    assert odense[10] == "false" and int(odense[7]) >= 5
    assert pages.get("/indicators", **{"from": "not-a-date"}).status_code == 400


def test_epidemiologist_sees_hai_rates_with_a_control_chart_and_downloads_reports(pages: PageClient) -> None:
    landed = pages.login("epidemiologist")
    assert landed.status_code == 200 and "Sygehuserhvervede infektioner" in landed.text
    assert "<polyline" in landed.text and "bacteraemia" in landed.text
    assert "må ikke bruges til at rangordne sygehuse" in landed.text
    weekly = pages.get("/surveillance", level="region", period="week")
    assert weekly.status_code == 200 and 'value="week" selected' in weekly.text
    csv_report = pages.get("/surveillance/report.csv", level="hospital", period="month")
    assert csv_report.status_code == 200 and "infection_or_pathogen" in csv_report.text
    assert "<5" in csv_report.text
    pdf = pages.get("/surveillance/report.pdf", level="region", period="month")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pages.get("/surveillance", level="galaxy").status_code == 400
    region = pages.get("/surveillance", level="region", period="month").text
    links = re.findall(r'href="(/surveillance/episodes\?[^"]+)">([^<]+)</a>', region)
    assert links
    found = [pages.get(href.replace("&amp;", "&")) for href, text in links if text.strip() != "0 (0.0)"]
    assert found and all(r.status_code == 200 for r in found)
    assert any("aureus" in r.text.lower() or "SAUR" in r.text for r in found)
    assert pages.get("/surveillance/episodes", area="x").status_code == 400
    assert pages.get("/surveillance/report.docx").status_code == 400


def test_only_epidemiologists_see_the_infection_page(pages: PageClient) -> None:
    pages.login("nurse", ("ESP_APPOINTMENTS",))
    refused = pages.get("/surveillance")
    assert refused.status_code == 403 and "kun for epidemiologer" in refused.text


def test_citizen_signs_up_for_reminders_and_stops_them(pages: PageClient) -> None:
    pages.login("citizen")
    empty = pages.get("/me/reminders")
    assert empty.status_code == 200 and 'name="channel"' in empty.text
    invalid = pages.post("/me/reminders", {"channel": "sms", "address": "not a phone", "lead": "60"})
    assert invalid.status_code == 422 and "Tjek telefonnummer" in invalid.text
    saved = pages.follow(pages.post("/me/reminders", {"channel": "sms", "address": "+45 11 22 33 44", "lead": "90"}))
    assert "Din tilmelding er gemt" in saved.text and "90 minutter" in saved.text
    assert saved.text.count("planlagt") == 3  # one per coming appointment of Carl's
    stopped = pages.follow(pages.post("/me/reminders/stop"))
    assert "Du får ikke længere påmindelser" in stopped.text and 'id="subscription"' not in stopped.text


def test_staff_cannot_manage_a_citizens_reminders(pages: PageClient) -> None:
    pages.login("nurse", ("ESP_APPOINTMENTS",))
    assert pages.get("/me/reminders").status_code == 403


def test_a_session_whose_token_no_longer_holds_goes_back_to_login(pages: PageClient, web_server: LiveServer) -> None:
    signer = CookieSigner.in_folder(Path(web_server.settings.data_dir))
    pages.cookie = signer.dump(WebSession(user="nurse", token="not.a.token", purposes=("ESP_PLANS",)))
    response = pages.get("/find")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    login = pages.follow(response)
    assert "Din session er udløbet" in login.text
    assert pages.get("/find").headers["location"] == "/login"  # the stale token is gone from the cookie


def test_proxy_sees_the_represented_citizens_overview_and_log(pages: PageClient) -> None:
    me = pages.login("proxy")
    assert "Carl Demo Borger" in me.text and "/phone" not in me.text
    assert pages.get("/me/log").status_code == 200
