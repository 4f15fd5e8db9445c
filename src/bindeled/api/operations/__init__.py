"""FHIR operations (``$name``) and feature endpoints under ``/fhir``, one module each.

:func:`feature_routes` lists the routes the national services add to the FHIR API; they are matched
before the generic REST routes and pass the same security gate.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["Handler", "RouteSpec", "feature_routes"]

Handler = Callable[[Request], Awaitable[Response]]
RouteSpec = tuple[str, Handler, list[str]]
"""A path under ``/fhir``, its handler and its HTTP methods."""


def feature_routes() -> list[RouteSpec]:
    """The national services' routes: each feature adds its import and its entries here."""
    found: list[RouteSpec] = []
    from . import surveillance

    found += [
        ("/$haiba-report", surveillance.haiba_report, ["GET"]),
        ("/$haiba-episodes", surveillance.haiba_episodes, ["GET"]),
    ]
    from . import lab

    found += [
        ("/$lab-results", lab.lab_results, ["POST"]),
        ("/$lab-quarantine", lab.quarantine_list, ["GET"]),
        ("/$lab-quarantine/{id}", lab.quarantine_read, ["GET"]),
        ("/$lab-quarantine/{id}/$replay", lab.quarantine_replay, ["POST"]),
        ("/$lab-quarantine/{id}/$discard", lab.quarantine_discard, ["POST"]),
    ]
    from ..subscriptions import subscription_routes

    found += subscription_routes()
    from .overview import overview_operation
    from .overview_stamkort import stamkort_operation, stamkort_pdc_operation

    found += [
        ("/Patient/{id}/$overview", overview_operation, ["GET"]),
        ("/Patient/{id}/$stamkort", stamkort_operation, ["GET", "PATCH", "POST"]),
        ("/Patient/{id}/$stamkort-pdc", stamkort_pdc_operation, ["GET"]),
    ]
    from .message_status import message_status
    from .process_message import process_message

    found += [("/$process-message", process_message, ["POST"]), ("/$message-status", message_status, ["GET"])]
    from .dead_letters import dead_letter_list, delivery_statistics_report, mailbox, replay_dead_letter

    found += [
        ("/$dead-letters", dead_letter_list, ["GET"]),
        ("/$delivery-statistics", delivery_statistics_report, ["GET"]),
        ("/$replay-dead-letter", replay_dead_letter, ["POST"]),
        ("/$mailbox", mailbox, ["GET"]),
    ]
    from .apd import apd_export, apd_import

    found += [("/Appointment/$import-apd", apd_import, ["POST"]), ("/Appointment/{id}/$apd", apd_export, ["GET"])]
    from .reminders import reminders

    found.append(("/$reminders", reminders, ["GET", "POST", "DELETE"]))
    from . import registers

    found += registers.routes()
    from . import rollout

    found += rollout.routes()
    return found
