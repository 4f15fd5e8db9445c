"""The citizen's reminders: sign up for SMS or e-mail reminders of coming appointments, see them, stop them.

The same subscription as ``/fhir/$reminders`` (``overview/reminders``), managed by the citizen
themselves; the citizen's Patient is looked up through the gate first, so the page only ever touches
the logged-in citizen's own subscription.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import BindeledError
from ..overview.reminders import Subscription, reminders_of, subscribe, subscription_of, unsubscribe
from ..overview.reminders.model import check_address, check_lead
from ..store.base import utc_now
from .access import data_access
from .framework import Page
from .pages_citizen import own_patient

__all__ = ["reminders", "stop_reminders"]


async def _patient_id(page: Page) -> str | None:
    patient = await own_patient(page)
    return None if patient is None else str(patient["id"])


async def reminders(request: Request, page: Page) -> Response:
    principal = page.require("citizen", refusal="not_citizen")
    patient_id = await _patient_id(page)
    if patient_id is None:
        return page.render("me_empty.html")
    svc = page.services
    error = False
    if request.method == "POST":
        form = await page.form()
        channel = str(form.get("channel", ""))
        try:
            address = check_address(channel, str(form.get("address", "")))
            lead = check_lead(int(str(form.get("lead", ""))))
        except (BindeledError, ValueError):
            error = True
        else:
            wanted = Subscription(patient_id, "sms" if channel == "sms" else "email", address, lead)
            async with data_access(request, page.session, interaction="update"):
                await subscribe(svc.repo, wanted, principal.pseudonym(), utc_now())
            return page.redirect("/me/reminders", flash="reminders.saved")
    current = await subscription_of(svc.store, patient_id)
    rows = await reminders_of(svc.store, patient_id) if current is not None else []
    return page.render(
        "reminders.html",
        status=422 if error else 200,
        subscription=current,
        rows=rows,
        error=error,
        default_lead=svc.settings.reminder_default_lead_minutes,
    )


async def stop_reminders(request: Request, page: Page) -> Response:
    page.require("citizen", refusal="not_citizen")
    await page.form()
    patient_id = await _patient_id(page)
    if patient_id is not None:
        async with data_access(request, page.session, interaction="delete"):
            await unsubscribe(page.services.repo, patient_id)
    return page.redirect("/me/reminders", flash="reminders.stopped")
