"""Journeys in a real headless Chromium (Debian's, driven by Playwright), with screenshots and an axe-core check.

Screenshots go to ``test-artifacts/web/`` (git-ignored). axe-core comes from the npm package that
``scripts/setup`` installs into ``.venv/node``; it is injected into each page (the pages' own CSP
allows no inline scripts, so the test context bypasses CSP for the injection only).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import REPO
from tests.web.conftest import CARL, CARL_CPR, DEAD_LETTER, PageClient

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts" / "web"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup (it installs it)")
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield found
        finally:
            found.close()


@pytest.fixture
def page(browser: Browser, browser_site: str) -> Iterator[Page]:
    context = browser.new_context(base_url=browser_site, bypass_csp=True, locale="da-DK", accept_downloads=True)
    found = context.new_page()
    found.set_default_timeout(30_000)
    try:
        yield found
    finally:
        context.close()


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def login(page: Page, username: str) -> None:
    page.goto("/login")
    page.click(f"#login-{username}")


def choose_purposes(page: Page, *purposes: str) -> None:
    page.wait_for_url("**/purpose**")
    for code in purposes:
        page.check(f"#purpose-{code}")
    page.get_by_role("button", name="Gem formål").click()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/setup (it installs it into .venv/node)")
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_nurse_looks_up_a_citizen(page: Page) -> None:
    login(page, "nurse")
    choose_purposes(page, "ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS")
    page.wait_for_url("**/find")
    page.get_by_label("CPR-nummer eller navn").fill(f"{CARL_CPR[:6]}-{CARL_CPR[6:]}")
    page.get_by_role("button", name="Søg").click()
    assert CARL_CPR not in page.url
    page.get_by_role("link", name="Carl Demo Borger").click()
    page.wait_for_url(f"**/patient/{CARL}")
    assert page.get_by_role("heading", level=1).inner_text() == "Overblik: Carl Demo Borger"
    assert page.locator("svg.plot circle").count() == 3
    assert page.get_by_role("cell", name="Sårpleje").is_visible()
    assert page.get_by_text("dine valgte formål dækker ikke disse oplysninger").is_visible()
    shot(page, "nurse-overview")


def test_emergency_access_is_asked_for_with_a_reason_and_marked(page: Page) -> None:
    login(page, "doctor")
    choose_purposes(page, "ESP_APPOINTMENTS", "LAB_READ")
    page.get_by_label("CPR-nummer eller navn").fill("Borger")
    page.get_by_role("button", name="Søg").click()
    page.get_by_role("link", name="Carl Demo Borger").click()
    page.click("#emergency-link")
    page.get_by_role("button", name="Brug værdispring").click()
    assert "/emergency" in page.url  # the browser refuses to submit without a reason
    page.get_by_label("Begrundelse").select_option("not_contactable")
    shot(page, "emergency-form")
    page.get_by_role("button", name="Brug værdispring").click()
    page.wait_for_url(f"**/patient/{CARL}")
    banner = page.locator("#emergency-banner")
    assert banner.is_visible() and "VÆRDISPRING AKTIVT" in banner.inner_text()
    shot(page, "emergency-active")
    page.get_by_role("button", name="Afslut værdispring").click()
    assert page.locator("#emergency-banner").count() == 0


def test_citizen_reads_the_log_and_blocks_lab_results(page: Page, browser_site: str) -> None:
    staff = PageClient(browser_site)
    try:
        staff.login("gp", ("ESP_APPOINTMENTS",))
        assert staff.get(f"/patient/{CARL}").status_code == 200
    finally:
        staff.close()
    login(page, "citizen")
    page.wait_for_url("**/me")
    page.get_by_role("link", name="Min log").click()
    assert page.locator("#minlog tbody tr").count() >= 1
    page.get_by_label("Hvem (navn)").fill("Gitte")
    page.get_by_role("button", name="Vis").click()
    readers = page.locator("#minlog tbody tr td:nth-child(2)").all_inner_texts()
    assert readers and set(readers) == {"Gitte Demo Praktiserende"}
    shot(page, "citizen-log")
    page.get_by_role("link", name="Spærringer og samtykker").click()
    page.get_by_label("Spær mine prøvesvar og målinger").check()
    page.get_by_role("button", name="Opret").click()
    assert page.get_by_text("Dit valg er registreret.").is_visible()
    row = page.locator("#choices tbody tr", has_text="Observation, DiagnosticReport").filter(has_text="Gældende")
    assert row.count() >= 1
    shot(page, "citizen-block")
    row.first.get_by_role("button", name="Træk tilbage").click()
    assert page.get_by_text("Trukket tilbage").first.is_visible()


def test_operator_sees_overview_use_per_municipality_and_downloads_csv(page: Page, browser_site: str) -> None:
    staff = PageClient(browser_site)
    try:
        staff.login("nurse", ("ESP_APPOINTMENTS",))
        assert staff.get(f"/patient/{CARL}").status_code == 200
    finally:
        staff.close()
    login(page, "operator")
    page.get_by_role("link", name="Indikatorer").click()
    odense = page.locator("#indicator-table tbody tr", has_text="Odense")
    assert odense.count() == 1
    assert page.locator("svg.plot").count() == 1
    shot(page, "operator-indicators")
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent som CSV").click()
    body = Path(download.value.path()).read_text()
    assert body.startswith("id,definition_version,period_start") and "bindeled.overview-use" in body


def test_operator_follows_the_rollout_per_municipality_and_organisation(page: Page) -> None:
    login(page, "operator")
    page.get_by_role("link", name="Udrulning").click()
    page.wait_for_url("**/rollout")
    assert page.get_by_role("heading", level=1).inner_text() == "Udrulning"
    municipalities = page.locator("#municipality-rollout tbody tr")
    assert municipalities.count() == 22
    assert page.locator("#municipality-rollout .badge.live").count() >= 1
    assert page.locator("#organisation-rollout td.status-not_ready").count() >= 1
    shot(page, "operator-rollout")
    page.get_by_label("Organisationstype").select_option("practice")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**kind=practice**")
    assert page.locator("#organisation-rollout tbody tr").count() >= 250
    assert page.locator("#organisation-rollout td", has_text="Planlagt idriftsættelse").count() >= 1
    shot(page, "operator-rollout-practices", full_page=False)  # 300 practices: the first screenful
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent som JSON").click()
    body = Path(download.value.path()).read_text()
    assert '"municipalities"' in body and '"test_message"' in body


def test_operator_reads_message_traffic_per_municipality(page: Page) -> None:
    login(page, "operator")
    page.get_by_role("link", name="Indikatorer").click()
    traffic = page.locator("#traffic-table tbody tr")
    assert traffic.count() >= 1
    assert page.locator("#traffic-table", has_text="hospital-notification-message").count() == 1
    page.locator("#traffic-table").scroll_into_view_if_needed()
    shot(page, "operator-traffic")
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent trafik som CSV").click()
    body = Path(download.value.path()).read_text()
    assert body.startswith("message_type,sender_municipality,receiver_municipality")


def test_operator_replays_a_dead_letter(page: Page) -> None:
    login(page, "operator")
    page.get_by_role("link", name="Drift").click()
    row = page.locator("#dead-letters tbody tr", has_text=DEAD_LETTER)
    assert row.count() == 1
    shot(page, "operator-dead-letters")
    row.get_by_role("button", name="Send igen").click()
    assert page.get_by_text("Meddelelsen er sat i kø igen.").is_visible()
    # Queued again in a new envelope: gone from the list, or (the receiver is unknown, so the delivery
    # worker may already have given up on it again) back with a second envelope.
    again = page.locator("#dead-letters tbody tr", has_text=DEAD_LETTER)
    assert again.count() == 0 or again.locator("td.copies").inner_text() == "2"


def test_epidemiologist_reads_rates_and_downloads_the_pdf_report(page: Page) -> None:
    login(page, "epidemiologist")
    page.wait_for_url("**/surveillance")
    assert page.get_by_role("heading", name="bacteraemia").is_visible()
    page.get_by_label("Niveau").select_option("region")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**level=region**")
    shot(page, "epidemiologist-rates")
    cell = page.locator("table a[href*='/surveillance/episodes']", has_text="<5").first
    cell.click()
    page.wait_for_url("**/surveillance/episodes**")
    assert page.locator("#episodes tbody tr").count() >= 1
    shot(page, "epidemiologist-episodes")
    page.get_by_role("link", name="Tilbage til raterne").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent rapport (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")


def test_keyboard_skip_link_and_language_switch(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome to bindeled"
    assert page.evaluate("document.documentElement.lang") == "en"


@pytest.mark.parametrize(
    ("username", "paths"),
    [
        ("nurse", ["/login", "/purpose", "/find", f"/patient/{CARL}", f"/patient/{CARL}/emergency"]),
        ("citizen", ["/me", "/me/log", "/me/blocks", "/me/reminders"]),
        ("operator", ["/indicators", "/operations", "/rollout", "/rollout?kind=practice"]),
        ("epidemiologist", ["/surveillance", "/surveillance?level=region&period=week"]),
    ],
)
def test_main_pages_have_no_serious_accessibility_violations(page: Page, username: str, paths: list[str]) -> None:
    login(page, username)
    if username == "nurse":
        choose_purposes(page, "ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS", "LAB_READ")
    for path in paths:
        page.goto(path)
        violations = serious_violations(page)
        assert violations == [], f"{path}: {violations}"
