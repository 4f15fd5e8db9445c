"""What every page shares: the session cookie, CSRF checks, templates in the user's language, refusals.

A page handler takes ``(request, page)`` where :class:`Page` carries the session and renders
templates; :func:`page_route` wraps it so the session is loaded before and saved after, a refused
data access becomes a page that explains the refusal (by its reason code, never by what is hidden),
an expired login goes back to the login page, and every HTML answer carries the security headers.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..api.services import Services, services
from ..errors import BindeledError, Forbidden
from ..security.devissuer import DEMO_USERS
from ..security.errors import TokenRejected
from ..security.principal import Principal
from .access import principal_of
from .messages import LANGUAGES, code_translator, translator
from .session_cookie import COOKIE_NAME, MAX_AGE, CookieSigner, WebSession

__all__ = ["CsrfRefused", "Page", "PageHandler", "page_route", "signer_for"]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class CsrfRefused(Forbidden):
    """A form post without this session's CSRF token."""

    def __init__(self) -> None:
        super().__init__("The form's CSRF token does not match this session", details_code="csrf")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bindeled.web", "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


_SIGNERS: dict[str, CookieSigner] = {}


def signer_for(svc: Services) -> CookieSigner:
    """The cookie signer of this data folder (one key per deployment)."""
    from pathlib import Path

    folder = svc.settings.data_dir
    if folder not in _SIGNERS:
        _SIGNERS[folder] = CookieSigner.in_folder(Path(folder))
    return _SIGNERS[folder]


class Page:
    """One page request: its session, its user, and how to answer."""

    def __init__(self, request: Request, session: WebSession) -> None:
        self.request = request
        self.session = session
        self.t = translator(session.lang)
        self._principal: Principal | None = None
        self._looked_up = False

    @property
    def services(self) -> Services:
        return services(self.request)

    @property
    def principal(self) -> Principal | None:
        """The logged-in user (verified token), or None."""
        if not self._looked_up:
            self._principal = principal_of(self.request, self.session)
            self._looked_up = True
        return self._principal

    def start_session(self, session: WebSession) -> None:
        """Replace the session (login, logout): the user is looked up again from the new one."""
        self.session = session
        self.session.changed = True
        self._looked_up = False

    def require(self, *user_types: str, refusal: str = "generic") -> Principal:
        """The user, who must be logged in and (when given) of one of ``user_types``."""
        principal = self.principal
        if principal is None:
            raise TokenRejected("Not logged in", "missing_token")
        if user_types and principal.user_type not in user_types and not principal.admin:
            raise Forbidden("This page is not for this kind of user", details_code=refusal)
        return principal

    async def form(self) -> FormData:
        """The posted form, after checking its CSRF token against the session's."""
        form = await self.request.form()
        given = form.get("csrf")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), self.session.csrf.encode()):
            raise CsrfRefused()
        return form

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        principal = self.principal
        context = {
            "t": self.t,
            "st": code_translator(self.session.lang),
            "lang": self.session.lang,
            "other_lang": next(lang for lang in LANGUAGES if lang != self.session.lang),
            "csrf": self.session.csrf,
            "user": principal,
            "path": self.request.url.path,
            "flash": self.session.pop_flash(),
            "dev_users": DEMO_USERS if self.services.issuer is not None else (),
            **values,
        }
        html = _environment().get_template(template).render(context)
        return HTMLResponse(html, status_code=status)

    def redirect(self, path: str, flash: str | None = None) -> RedirectResponse:
        if flash is not None:
            self.session.flash = flash
            self.session.changed = True
        return RedirectResponse(path, status_code=303)

    def refusal(self, error: BindeledError) -> Response:
        code = error.details_code or error.code
        key = f"refusal.{code}"
        reason = self.t(key) if self.t(key) != key else self.t("refusal.generic", code=code)
        # A bad request says what was wrong (our own texts, never data); refusals give their code only.
        detail = error.message if error.status == 400 else None
        return self.render("refusal.html", status=error.status, reason=reason, code=code, detail=detail)


PageHandler = Callable[[Request, Page], Awaitable[Response]]


def page_route(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around a page handler (session in, cookie and headers out, refusals explained)."""

    async def endpoint(request: Request) -> Response:
        signer = signer_for(services(request))
        loaded = signer.load(request.cookies.get(COOKIE_NAME))
        session = loaded or WebSession(changed=True)
        page = Page(request, session)
        try:
            response = await handler(request, page)
        except TokenRejected:
            if page.session.token:
                page.start_session(page.session.logged_out())
                page.session.flash = "login.expired"
            else:
                page.session.flash, page.session.changed = "login.required", True
            response = RedirectResponse("/login", status_code=303)
        except BindeledError as error:
            response = page.refusal(error)
        session = page.session
        if session.changed:
            response.set_cookie(
                COOKIE_NAME,
                signer.dump(session),
                max_age=MAX_AGE,
                path="/",
                secure=True,
                httponly=True,
                samesite="strict",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint
