"""A live bindeled (SQLite, ``--dev``) with the synthetic SOR region and one citizen's data, for the page tests.

The data is written before the server starts (as ``bindeled demo`` does), then the server runs in a
thread like the API tests' server. :class:`PageClient` is a small browser stand-in for the HTTP-level
tests: it keeps the session cookie (which is ``Secure``, so httpx's own jar would not send it over
plain HTTP to the loopback server) and reads CSRF tokens from forms.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bindeled.api.app import build_services
from bindeled.api.services import Services
from bindeled.config import Settings
from bindeled.demo.messages import load_demo_messages
from bindeled.demo.patients import SYNTHETIC_TAG, synthetic_citizens
from bindeled.indicators.rollout.demo import seed_rollout
from bindeled.messaging.delivery.outbox import Outgoing, enqueue
from bindeled.messaging.delivery.queue import claim_due, mark_dead
from bindeled.overview.appointment_model import (
    AT_HOME,
    CONTACT_PHONE,
    CUSTODIAN,
    LEGAL_BASIS,
    LEGAL_BASIS_SYSTEM,
    OWNER_TYPE,
    PERFORMER,
)
from bindeled.overview.treatment import CURRENT_STAY_TAG
from bindeled.registry import SorTree, import_into, synthetic_region
from bindeled.registry.fhir import organization_id
from bindeled.security.facts import CPR_SYSTEM
from bindeled.store.base import Store
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.surveillance.reports.demo import load_demo_contacts
from tests.api.conftest import LiveServer, _free_port
from tests.backends import BACKENDS, database_url_for
from tests.conftest import SHARED
from tests.surveillance.extract.world import blood_case, mapped_resources

CARL = "web-carl"
CARL_CPR = "6101709995"
HOME_NURSING, MEDICAL, GP_PRACTICE = "12559999999100", "10079999999100", "17459999999100"
_NOW = datetime.now(UTC).replace(microsecond=0)


def _at(days: int, hour: int = 9) -> str:
    return (_NOW + timedelta(days=days)).replace(hour=hour, minute=0, second=0).isoformat()


def _appointment(ident: str, owner: str, unit: str, days: int, reason: str, **extra: Any) -> dict[str, Any]:
    org = {"reference": f"Organization/{organization_id(unit)}"}
    extensions: list[dict[str, Any]] = [
        {"url": OWNER_TYPE, "valueCode": owner},
        {"url": PERFORMER, "valueReference": org},
        {"url": CUSTODIAN, "valueReference": org},
        {"url": AT_HOME, "valueBoolean": True},
        {"url": CONTACT_PHONE, "valueContactPoint": {"system": "phone", "value": "+45 66 11 22 33"}},
    ]
    if owner == "municipal":
        extensions.append({"url": LEGAL_BASIS, "valueCoding": {"system": LEGAL_BASIS_SYSTEM, "code": "SEL-83"}})
    return {
        "resourceType": "Appointment",
        "id": ident,
        "meta": {"tag": [SYNTHETIC_TAG]},
        "extension": extensions,
        "status": "booked",
        "reasonCode": [{"text": reason}],
        "start": _at(days),
        "end": _at(days, 10),
        "participant": [{"actor": {"reference": f"Patient/{CARL}"}, "status": "accepted"}],
        **extra,
    }


def carl_resources() -> list[dict[str, Any]]:
    """The demo citizen Carl (CPR of the ``citizen`` demo login) with data from every section."""
    tag = {"tag": [SYNTHETIC_TAG]}
    subject = {"reference": f"Patient/{CARL}"}
    return [
        {
            "resourceType": "Patient",
            "id": CARL,
            "meta": tag,
            "identifier": [{"system": CPR_SYSTEM, "value": CARL_CPR}],
            "name": [{"family": "Borger", "given": ["Carl", "Demo"]}],
            "birthDate": "1970-01-01",
            "telecom": [{"system": "phone", "value": "+45 11 22 33 44"}],
        },
        _appointment("web-appt-home", "municipal", HOME_NURSING, 1, "Sårpleje"),
        _appointment("web-appt-hosp", "regional", MEDICAL, 5, "Ambulant kontrol"),
        _appointment("web-appt-gp", "practice", GP_PRACTICE, 9, "Årskontrol"),
        _appointment("web-appt-past", "regional", MEDICAL, -40, "Tidligere kontrol", status="fulfilled"),
        {
            "resourceType": "RelatedPerson",
            "id": "web-relative",
            "meta": tag,
            "active": True,
            "patient": subject,
            "name": [{"text": "Dorte Demo Pårørende"}],
            "relationship": [{"text": "Ægtefælle"}],
            "telecom": [{"system": "phone", "value": "+45 55 66 77 88"}],
        },
        {
            "resourceType": "CarePlan",
            "id": "web-plan",
            "meta": tag,
            "status": "active",
            "intent": "plan",
            "title": "Genoptræningsplan efter indlæggelse",
            "subject": subject,
            "period": {"start": _at(-3)},
        },
        {
            "resourceType": "Observation",
            "id": "web-lab",
            "meta": tag,
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": {"text": "P-Hæmoglobin"},
            "subject": subject,
            "effectiveDateTime": _at(-2),
            "valueQuantity": {"value": 8.1, "unit": "mmol/L"},
        },
        {
            "resourceType": "Communication",
            "id": "web-message",
            "meta": tag,
            "status": "completed",
            "subject": subject,
            "sent": _at(-1),
            "category": [{"text": "Korrespondancemeddelelse"}],
            "payload": [{"contentString": "Husk blodprøve før kontrol."}],
        },
        {
            "resourceType": "Encounter",
            "id": "web-stay",
            "meta": {"tag": [SYNTHETIC_TAG, {"system": CURRENT_STAY_TAG.split("|")[0], "code": "current-stay"}]},
            "status": "in-progress",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "IMP",
                "display": "indlagt",
            },
            "subject": subject,
            "period": {"start": _at(-1)},
        },
    ]


DEAD_LETTER = "web-dead-letter-1"
HOSPITAL_GLN, HOME_CARE_GLN = "0290000000036", "0290000000586"


async def _dead_letter(store: Store) -> None:
    """One letter the hub gave up on (the operator's replay journey)."""
    now = datetime.now(UTC) - timedelta(hours=1)
    payload = json.dumps({"resourceType": "Bundle", "id": "env-1", "type": "message"}).encode()
    item = Outgoing(DEAD_LETTER, "env-1", "HospitalNotification", HOSPITAL_GLN, HOME_CARE_GLN, payload, False)
    async with store.transaction() as tx:
        await enqueue(tx, item, at=now)
    (claimed,) = await claim_due(store, now, limit=1, lease=timedelta(minutes=1))
    await mark_dead(store, claimed, now + timedelta(seconds=60), reason="receiver answered HTTP 400")


async def _infections(repo: Repository) -> None:
    """Synthetic citizens with hospital-onset S. aureus bacteraemia and their admissions (the HAI page)."""
    admitted = (_NOW - timedelta(days=60)).replace(hour=8, minute=0, second=0)
    citizens = [group[0] for group in synthetic_citizens(12, seed=3)]
    for citizen in citizens:
        await repo.update("Patient", citizen["id"], citizen)
    admissions = []
    for n, citizen in enumerate(citizens[:6]):
        sampled = admitted + timedelta(days=n, hours=72)
        case = blood_case(f"30000000{n:02d}", sampled, ("SAUR", "Staphylococcus aureus"))
        for resource in mapped_resources(case, "F", citizen["id"]):
            await repo.update(resource["resourceType"], resource["id"], resource)
        admissions.append((citizen["identifier"][0]["value"], "MED-B", admitted + timedelta(days=n), sampled))
    await load_demo_contacts(repo, admissions, seed=3, start=_NOW - timedelta(days=120), days=100)


async def _rollout(svc: Services, tree: SorTree) -> None:
    """MedCom traffic and the demo's rollout (trust agreements, clients, test exchanges, plans), about a
    synthetic citizen who is not in the store (the page tests' citizens keep their stays)."""
    (stranger,) = [group[0] for group in synthetic_citizens(1, seed=99)]
    await load_demo_messages(svc, tree, [stranger], count=4, seed=3, start=_NOW - timedelta(days=1))
    await seed_rollout(svc, tree, [stranger], now=_NOW, seed=3)


async def _seed(settings: Settings) -> None:
    svc = build_services(settings)
    await svc.store.open()
    tree = SorTree.from_export(synthetic_region())
    try:
        with as_system():
            await import_into(svc.store, tree)
            for resource in carl_resources():
                await svc.repo.update(resource["resourceType"], resource["id"], resource)
            await _infections(svc.repo)
            await _rollout(svc, tree)
        await _dead_letter(svc.store)
    finally:
        await svc.store.close()


def _live(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"web-{backend}")
    with database_url_for(backend, folder) as url:
        settings = Settings(
            database_url=url,
            port=_free_port(),
            log_json=False,
            dev=True,
            data_dir=str(folder / "data"),
            medcom_packages_dir=str(SHARED / "standards" / "fhir-packages"),
        )
        asyncio.run(_seed(settings))
        with LiveServer(settings) as live:
            yield live


@pytest.fixture(scope="session", params=BACKENDS)
def web_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server for the HTTP-level page tests, on both backends."""
    yield from _live(tmp_path_factory, request.param)


@pytest.fixture(scope="session")
def site(web_server: LiveServer) -> str:
    return f"http://127.0.0.1:{web_server.settings.port}"


@pytest.fixture(scope="session")
def browser_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server the browser tests drive (SQLite is enough for them)."""
    for live in _live(tmp_path_factory, "sqlite"):
        yield f"http://127.0.0.1:{live.settings.port}"


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class PageClient:
    """A browser stand-in: keeps the session cookie by hand and fills in CSRF tokens."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        self.cookie: str | None = None
        self.csrf: str | None = None

    def _remember(self, response: httpx.Response) -> httpx.Response:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            if name == "bindeled_session":
                self.cookie = rest.split(";", 1)[0]
        found = _CSRF.search(response.text) if "text/html" in response.headers.get("content-type", "") else None
        if found:
            self.csrf = found.group(1)
        return response

    def _headers(self) -> dict[str, str]:
        return {"Cookie": f"bindeled_session={self.cookie}"} if self.cookie else {}

    def get(self, path: str, **params: str) -> httpx.Response:
        # httpx replaces a path's own query string with ``params`` even when empty: pass them only when given.
        response = self.http.get(path, params=params, headers=self._headers()) if params else None
        return self._remember(response or self.http.get(path, headers=self._headers()))

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf or "")
        return self._remember(self.http.post(path, data=form, headers=self._headers()))

    def follow(self, response: httpx.Response) -> httpx.Response:
        while response.status_code in (302, 303):
            response = self.get(response.headers["location"])
        return response

    def login(self, username: str, purposes: tuple[str, ...] = ()) -> httpx.Response:
        self.get("/login")
        landed = self.follow(self.post("/login", {"username": username}))
        if purposes:
            self.get("/purpose")
            landed = self.follow(self.post("/purpose", {"purpose": list(purposes), "next": "/find"}))
        return landed

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def pages(site: str) -> Iterator[PageClient]:
    client = PageClient(site)
    yield client
    client.close()
