"""Home, demo login, logout, language switch and the choice of purposes of use.

The demo login exists only when the server runs with ``--dev``: one click mints a token for a demo
user with bindeled's development issuer and keeps it in the signed session cookie. Citizens' tokens
from this login also allow writing their own Consents (the citizen portal's grant), so they can
manage their blocks; the policy still limits them to their own data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from ..errors import NotFound
from ..security.devissuer import DemoUser, demo_user
from .framework import Page
from .messages import LANGUAGES
from .session_cookie import MAX_AGE, WebSession

__all__ = ["home", "language", "login", "logout", "purpose"]

PORTAL_CITIZEN_SCOPE = " patient/Consent.cu"
"""Added to citizens' scopes by the citizen portal's login: they manage their own blocks and consents."""

STAFF_PURPOSES = ("ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS", "LAB_READ")
"""Purposes offered on the purpose page (those the overview's sections use); all are known to the policy."""


def safe_next(value: object, default: str = "/") -> str:
    """A local path to go back to (never another site)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


async def home(request: Request, page: Page) -> Response:
    return page.render("home.html")


async def login(request: Request, page: Page) -> Response:
    if request.method == "GET":
        return page.render("login.html")
    form = await page.form()
    issuer = page.services.issuer
    if issuer is None:
        raise NotFound("The demo login is only available with --dev")
    try:
        user = demo_user(str(form.get("username", "")))
    except KeyError:
        raise NotFound("No such demo user") from None
    if user.claims.get("user_type") in ("citizen", "proxy"):
        user = DemoUser(user.username, user.claims, user.scope + PORTAL_CITIZEN_SCOPE)
    token = issuer.mint(user, now=datetime.now(UTC), lifetime=timedelta(seconds=MAX_AGE))
    fresh = WebSession(lang=page.session.lang, user=user.username, token=token, changed=True)
    if user.claims.get("purpose"):
        fresh.purposes = (str(user.claims["purpose"]),)
    page.start_session(fresh)
    user_type = user.claims.get("user_type")
    if user.claims.get("role") == "epidemiologist":
        return page.redirect("/surveillance")
    if user_type in ("citizen", "proxy"):
        return page.redirect("/me")
    if user_type in ("hcp", "trust_user") and not fresh.purposes:
        return page.redirect("/purpose?next=/find")
    return page.redirect("/find" if user_type in ("hcp", "trust_user") else "/")


async def logout(request: Request, page: Page) -> Response:
    await page.form()
    page.start_session(page.session.logged_out())
    return page.redirect("/")


async def language(request: Request, page: Page) -> Response:
    form = await page.form()
    wanted = form.get("to")
    if wanted in LANGUAGES:
        page.session.lang = str(wanted)
        page.session.changed = True
    return page.redirect(safe_next(form.get("next")))


async def purpose(request: Request, page: Page) -> Response:
    page.require("hcp", "trust_user", refusal="not_staff")
    if request.method == "GET":
        return page.render(
            "purpose.html",
            choices=STAFF_PURPOSES,
            chosen=page.session.purposes,
            next=safe_next(request.query_params.get("next"), "/find"),
            missing=False,
        )
    form = await page.form()
    chosen = tuple(p for p in STAFF_PURPOSES if p in form.getlist("purpose"))
    target = safe_next(form.get("next"), "/find")
    if not chosen:
        return page.render("purpose.html", status=422, choices=STAFF_PURPOSES, chosen=(), next=target, missing=True)
    page.session.purposes = chosen
    page.session.changed = True
    return page.redirect(target)
