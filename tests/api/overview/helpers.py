"""Shared set-up for the overview API tests: a small SOR tree, citizens, users at units, appointments.

Every test builds its own units (fresh SOR codes), so tests never depend on each other's data on the
shared live server.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bindeled.overview.appointment_model import (
    AT_HOME,
    CUSTODIAN,
    LEGAL_BASIS,
    LEGAL_BASIS_SYSTEM,
    OWNER_TYPE,
    PERFORMER,
)
from bindeled.overview.stamkort_model import ADDRESS_PROTECTED, MUNICIPALITY, REGISTERED_CHOICE
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from tests.api.conftest import LiveServer

JSON = {"Content-Type": "application/fhir+json"}
CPR = "urn:oid:1.2.208.176.1.2"
SOR = "urn:oid:1.2.208.176.1.1"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
DEMO_CITIZEN_CPR = "6101709995"


def _code() -> str:
    return str(random.randrange(10**14, 10**15))


@dataclass(frozen=True)
class Units:
    """SOR codes of a small tree: a region's hospital with a ward, two municipalities, a GP practice."""

    region: str
    hospital: str
    ward: str
    silent_ward: str
    municipality: str
    home_care: str
    other_municipality: str
    other_home_care: str
    practice: str
    municipality_code: str
    other_municipality_code: str


def _put_unit(client: httpx.Client, code: str, name: str, parent: str | None, **extra: Any) -> None:
    identifiers = [{"use": "official", "system": SOR, "value": code}]
    if "kommunekode" in extra:
        identifiers.append({"system": MUNICIPALITY_SYSTEM, "value": extra.pop("kommunekode")})
    org: dict[str, Any] = {"resourceType": "Organization", "id": f"sor-{code}", "identifier": identifiers}
    org["active"] = True
    org["name"] = name
    if "phone" in extra:
        org["telecom"] = [{"system": "phone", "value": extra["phone"], "use": "work"}]
    if parent is not None:
        org["partOf"] = {"reference": f"Organization/sor-{parent}"}
    response = client.put(f"/Organization/sor-{code}", json=org, headers=JSON)
    assert response.status_code in (200, 201), response.text
    location: dict[str, Any] = {
        "resourceType": "Location",
        "id": f"sor-{code}",
        "identifier": [{"use": "official", "system": SOR, "value": code}],
        "status": "active",
        "name": name,
        "managingOrganization": {"reference": f"Organization/sor-{code}"},
    }
    if "phone" in extra:
        location["telecom"] = org["telecom"]
    response = client.put(f"/Location/sor-{code}", json=location, headers=JSON)
    assert response.status_code in (200, 201), response.text


def make_units(client: httpx.Client) -> Units:
    """A fresh tree: the ward carries the hospital's phone (as the SOR import resolves it); the silent ward has none."""
    units = Units(*(_code() for _ in range(9)), str(random.randrange(101, 860)), str(random.randrange(101, 860)))
    _put_unit(client, units.region, "Region Test", None)
    _put_unit(client, units.hospital, "Test Sygehus", units.region, phone="65001000")
    _put_unit(client, units.ward, "Test Sygehus, Medicinsk Afdeling", units.hospital, phone="65001000")
    _put_unit(client, units.silent_ward, "Test Sygehus, Stille Afsnit", units.region)
    _put_unit(client, units.municipality, "Test Kommune", None, kommunekode=units.municipality_code)
    _put_unit(client, units.home_care, "Test Kommune, Hjemmeplejen", units.municipality, phone="65002000")
    _put_unit(client, units.other_municipality, "Anden Kommune", None, kommunekode=units.other_municipality_code)
    _put_unit(client, units.other_home_care, "Anden Kommune, Hjemmeplejen", units.other_municipality, phone="6500")
    _put_unit(client, units.practice, "Test Lægehus", None, phone="65003000")
    return units


def synthetic_cpr() -> str:
    """A CPR-shaped substitute number (day of month + 60): never a real person's."""
    day, month, year = random.randrange(61, 89), random.randrange(1, 13), random.randrange(30, 99)
    return f"{day}{month:02d}{year}{random.randrange(0, 4000):04d}"


def make_patient(client: httpx.Client, units: Units, cpr: str | None = None, **extra: Any) -> str:
    """A citizen with register data (as a register import would write it, here as administrator)."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": CPR, "value": cpr or synthetic_cpr()}],
        "name": [{"family": "Testesen", "given": ["Tove"]}],
        "address": [{"use": "home", "line": ["Testvej 1"], "postalCode": "5000", "city": "Odense C"}],
        "generalPractitioner": [{"reference": f"Organization/sor-{units.practice}"}],
        "extension": [
            {"url": MUNICIPALITY, "valueCode": units.municipality_code},
            {
                "url": REGISTERED_CHOICE,
                "extension": [{"url": "kind", "valueCode": "organ-donor"}, {"url": "registered", "valueBoolean": True}],
            },
        ],
    }
    if extra.get("protected"):
        patient["extension"].append({"url": ADDRESS_PROTECTED, "valueBoolean": True})
    response = client.post("/Patient", json=patient, headers=JSON)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


CARD_EDITOR_SCOPE = "openid fhirUser patient/*.rs patient/Patient.u patient/RelatedPerson.cud"
"""A citizen app that may edit the card (the demo citizen's own token reads only)."""


def token_at(
    server: LiveServer, username: str, unit: str | None = None, purpose: str | None = None, scope: str | None = None
) -> str:
    user = demo_user(username)
    if scope is not None:
        user = dataclasses.replace(user, scope=scope)
    if unit is not None:
        user = user.at(unit, f"Unit {unit[-4:]}")
    issuer = LocalIssuer(Path(server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    return issuer.mint(user, now=datetime.now(UTC), purpose=purpose)


def as_user(
    server: LiveServer, username: str, unit: str | None = None, purpose: str | None = None, scope: str | None = None
) -> httpx.Client:
    token = token_at(server, username, unit, purpose, scope)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    return httpx.Client(base_url=server.base, timeout=60, headers=headers)


def at(days: float, hour: int = 10) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment.isoformat()


def appointment(
    patient: str,
    performer: str,
    owner_type: str = "regional",
    *,
    custodian: str | None = None,
    location: str | None = None,
    home: bool = False,
    start_days: float = 2,
    legal_basis: str | None = None,
    reason: str = "Kontrol",
) -> dict[str, Any]:
    """An overview appointment body (the contract's shape)."""
    participants: list[dict[str, Any]] = [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}]
    if location is not None:
        participants.append({"actor": {"reference": f"Location/sor-{location}"}, "status": "accepted"})
    extensions: list[dict[str, Any]] = [
        {"url": OWNER_TYPE, "valueCode": owner_type},
        {"url": PERFORMER, "valueReference": {"reference": f"Organization/sor-{performer}"}},
        {"url": CUSTODIAN, "valueReference": {"reference": f"Organization/sor-{custodian or performer}"}},
    ]
    if home:
        extensions.append({"url": AT_HOME, "valueBoolean": True})
    if legal_basis is not None:
        extensions.append({"url": LEGAL_BASIS, "valueCoding": {"system": LEGAL_BASIS_SYSTEM, "code": legal_basis}})
    return {
        "resourceType": "Appointment",
        "id": str(uuid.uuid4()),
        "extension": extensions,
        "status": "booked",
        "reasonCode": [{"text": reason}],
        "start": at(start_days),
        "end": at(start_days, 11),
        "participant": participants,
    }


def details_code(response: httpx.Response) -> str:
    return str(response.json()["issue"][0]["details"]["coding"][0]["code"])
