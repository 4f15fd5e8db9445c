"""The page routes, mounted at ``/`` beside ``/fhir``; static assets at ``/static`` (served by bindeled itself)."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import pages_citizen, pages_clinician, pages_session
from .framework import page_route
from .metrics import metrics_endpoint
from .pages_indicators import indicators, indicators_csv, traffic_csv_download
from .pages_operations import operations, replay_letter
from .pages_reminders import reminders, stop_reminders
from .pages_rollout import rollout, rollout_json
from .pages_surveillance import episodes, report_download, surveillance

__all__ = ["web_routes"]

STATIC = Path(__file__).parent / "static"
_GET, _POST, _BOTH = ["GET", "HEAD"], ["POST"], ["GET", "HEAD", "POST"]


def web_routes() -> list[BaseRoute]:
    """Every page, plus ``/metrics`` and the static files."""
    pages = [
        ("/", pages_session.home, _GET),
        ("/login", pages_session.login, _BOTH),
        ("/logout", pages_session.logout, _POST),
        ("/language", pages_session.language, _POST),
        ("/purpose", pages_session.purpose, _BOTH),
        ("/find", pages_clinician.find, _BOTH),
        ("/patient/{id}", pages_clinician.overview, _GET),
        ("/patient/{id}/phone", pages_clinician.phone, _POST),
        ("/patient/{id}/relative", pages_clinician.relative, _POST),
        ("/patient/{id}/emergency", pages_clinician.emergency, _BOTH),
        ("/emergency/end", pages_clinician.emergency_end, _POST),
        ("/me", pages_citizen.me, _GET),
        ("/me/acting-for", pages_citizen.choose, _POST),
        ("/me/log", pages_citizen.log, _GET),
        ("/me/blocks", pages_citizen.blocks, _BOTH),
        ("/me/blocks/{id}/withdraw", pages_citizen.withdraw, _POST),
        ("/me/reminders", reminders, _BOTH),
        ("/me/reminders/stop", stop_reminders, _POST),
        ("/indicators", indicators, _GET),
        ("/indicators.csv", indicators_csv, _GET),
        ("/operations", operations, _GET),
        ("/rollout", rollout, _GET),
        ("/rollout.json", rollout_json, _GET),
        ("/indicators/traffic.csv", traffic_csv_download, _GET),
        ("/operations/replay", replay_letter, _POST),
        ("/surveillance", surveillance, _GET),
        ("/surveillance/report.{format}", report_download, _GET),
        ("/surveillance/episodes", episodes, _GET),
    ]
    found: list[BaseRoute] = [Route(path, page_route(handler), methods=methods) for path, handler, methods in pages]
    found.append(Route("/metrics", metrics_endpoint, methods=_GET))
    found.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))
    return found
