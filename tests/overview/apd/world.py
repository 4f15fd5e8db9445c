"""The APD-DK examples and the SOR units they name, for the APD and reminder tests.

The examples are read from ``../shared`` (never copied). Tests give each import a fresh appointment
UUID (and, where they need one, a fresh synthetic CPR number) so they never depend on each other.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from bindeled.security.devissuer import DemoUser
from tests.conftest import SHARED

APD_DIR = SHARED / "standards" / "esp" / "apd-dk"
EXAMPLES = sorted(p.name for p in APD_DIR.glob("*.xml"))
EXAMPLE_CPR = "2512489996"
SOR = "urn:oid:1.2.208.176.1.1"

UNITS = {
    "325441000016006": ("Regionshospitalet (test)", "66113322"),
    "345051000016004": ("Odenses Kommunes Hjemmehjælp - Munkebo (test)", "66114545"),
    "359001000016000": ("Odense Kommunes dataansvarlige enhed (test)", None),
    "455721000016003": ("Odense Kommune, Dataansvarlige Enhed (test)", None),
    "378631000016009": ("Region Syd, dataansvarlig (test)", "65129999"),
}
"""The SOR units the examples name (performers, custodians, the hospital meeting place), as registered here."""
LOCATIONS = ("325441000016006",)


def example(name: str) -> bytes:
    return (APD_DIR / name).read_bytes()


def encounter_id(document: bytes) -> str:
    """The appointment UUID of an example (the encounter's id)."""
    text = document.decode()
    marker = text.index("1.2.208.184.14.11.2")
    start = text.index('extension="', text.index("<id", marker)) + len('extension="')
    return text[start : text.index('"', start)]


def fresh(document: bytes, *, cpr: str | None = None) -> tuple[bytes, str]:
    """The document with a new appointment UUID (and optionally another CPR number); and that UUID."""
    new_id = str(uuid.uuid4())
    text = document.decode().replace(encounter_id(document), new_id)
    if cpr is not None:
        text = text.replace(EXAMPLE_CPR, cpr)
    return text.encode(), new_id


def synthetic_cpr() -> str:
    """A synthetic CPR number (day of month + 60) not used by other tests."""
    rng = random.Random()
    return f"{rng.randint(61, 88)}{rng.randint(1, 12):02d}{rng.randint(30, 99)}{rng.randint(0, 9999):04d}"


def performer_of(document: bytes) -> str:
    text = document.decode()
    performer = text.index("<performer")
    start = text.index('extension="', performer) + len('extension="')
    return text[start : text.index('"', start)]


def register_units(client: httpx.Client) -> None:
    """PUT the examples' SOR units as the registry would store them (idempotent)."""
    for sor, (name, phone) in UNITS.items():
        organization: dict[str, Any] = {
            "resourceType": "Organization",
            "id": f"sor-{sor}",
            "identifier": [{"use": "official", "system": SOR, "value": sor}],
            "active": True,
            "name": name,
        }
        if phone:
            organization["telecom"] = [{"system": "phone", "value": phone, "use": "work"}]
        assert client.put(f"/Organization/sor-{sor}", json=organization).status_code in (200, 201)
    for sor in LOCATIONS:
        name, phone = UNITS[sor]
        location = {
            "resourceType": "Location",
            "id": f"sor-{sor}",
            "identifier": [{"use": "official", "system": SOR, "value": sor}],
            "status": "active",
            "name": name,
            "telecom": [{"system": "phone", "value": phone, "use": "work"}],
            "managingOrganization": {"reference": f"Organization/sor-{sor}"},
        }
        assert client.put(f"/Location/sor-{sor}", json=location).status_code in (200, 201)


def staff_headers(data_dir: str, sor: str, username: str = "nurse") -> dict[str, str]:
    """A demo professional working at SOR unit ``sor``, with the appointments purpose."""
    issuer = LocalIssuer(Path(data_dir), DEV_ISSUER, DEV_AUDIENCE)
    user = demo_user(username).at(sor, UNITS.get(sor, ("Test unit", None))[0])
    token = issuer.mint(user, now=datetime.now(UTC), purpose="ESP_APPOINTMENTS")
    return {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}


def citizen_headers(data_dir: str, username: str = "citizen", *, cpr: str | None = None) -> dict[str, str]:
    """A demo citizen (or proxy); with ``cpr``, a citizen of that CPR number instead of the demo's own."""
    issuer = LocalIssuer(Path(data_dir), DEV_ISSUER, DEV_AUDIENCE)
    user = demo_user(username)
    if cpr is not None:
        user = DemoUser(f"citizen-{cpr[-4:]}", {**user.claims, "cpr": cpr, "name": "Test Borger"}, user.scope)
    token = issuer.mint(user, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}


def is_municipal(document: bytes) -> bool:
    return b"MunicipalityAppointment" in document


def import_params(document: bytes) -> dict[str, str]:
    """The municipal examples carry no legal basis (APD-DK has no element for it): give one."""
    return {"legal-basis": "SEL-83"} if is_municipal(document) else {}
