"""Synthetic Danish citizens with a few observations and encounters, for the demo and tests.

Every resource is tagged ``SYNTHETIC`` and every narrative says so. CPR-shaped identifiers use the
day of month plus 60 (the convention for substitute numbers), so they can never be a real person's.
The same seed always gives the same data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ..fhir.jsonio import Resource

__all__ = ["CPR_SYSTEM", "SYNTHETIC_TAG", "synthetic_citizens"]

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SYNTHETIC_TAG = {
    "system": "https://bindeled.dk/fhir/CodeSystem/data-origin",
    "code": "SYNTHETIC",
    "display": "Synthetic demo data",
}

_GIVEN_F = (
    "Anne",
    "Kirsten",
    "Mette",
    "Hanne",
    "Helle",
    "Susanne",
    "Lene",
    "Marianne",
    "Camilla",
    "Inge",
    "Sofie",
    "Ida",
    "Freja",
    "Emma",
    "Karen",
    "Birgit",
    "Jytte",
    "Bente",
    "Søs",
    "Åse",
)
_GIVEN_M = (
    "Peter",
    "Jens",
    "Lars",
    "Michael",
    "Henrik",
    "Thomas",
    "Søren",
    "Niels",
    "Jan",
    "Morten",
    "Rasmus",
    "Mads",
    "Frederik",
    "Anders",
    "Christian",
    "Bjørn",
    "Ole",
    "Poul",
    "Jørgen",
    "Ærling",
)
_FAMILY = (
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
    "Østergaard",
    "Møller",
    "Lund",
    "Holm",
)
_TOWNS = (
    ("Odense C", "5000", "461"),
    ("Svendborg", "5700", "479"),
    ("Vejle", "7100", "630"),
    ("Kolding", "6000", "621"),
    ("Esbjerg", "6700", "561"),
    ("Aabenraa", "6200", "580"),
    ("Sønderborg", "6400", "540"),
    ("Middelfart", "5500", "410"),
    ("Nyborg", "5800", "450"),
)
_STREETS = ("Vestergade", "Østergade", "Nørregade", "Søndergade", "Kongensgade", "Skovvej", "Engvej", "Bakkevej")
_VITALS = (
    ("8867-4", "Heart rate", "/min", "beats/minute", 55, 100, 0),
    ("8310-5", "Body temperature", "Cel", "°C", 36, 39, 1),
    ("29463-7", "Body weight", "kg", "kg", 50, 110, 1),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%", 90, 100, 0),
)


def _cpr(rng: random.Random, birth: date, female: bool) -> str:
    serial = rng.randrange(0, 1000) * 10 + rng.choice((0, 2, 4, 6, 8) if female else (1, 3, 5, 7, 9))
    return f"{birth.day + 60:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def _meta() -> Resource:
    return {"tag": [dict(SYNTHETIC_TAG)]}


def _narrative(text: str) -> Resource:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{text} (syntetiske data)</div>'}


def _patient(rng: random.Random, pid: str) -> Resource:
    female = rng.random() < 0.5
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 90))
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    family = rng.choice(_FAMILY)
    town, postal, municipality = rng.choice(_TOWNS)
    return {
        "resourceType": "Patient",
        "id": pid,
        "meta": _meta(),
        "text": _narrative("Syntetisk borger"),
        "identifier": [{"system": CPR_SYSTEM, "value": _cpr(rng, birth, female)}],
        "active": True,
        "name": [{"use": "official", "family": family, "given": [given]}],
        "telecom": [{"system": "phone", "value": f"+45 {rng.randrange(20000000, 99999999)}", "use": "mobile"}],
        "gender": "female" if female else "male",
        "birthDate": birth.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [f"{rng.choice(_STREETS)} {rng.randrange(1, 120)}"],
                "city": town,
                "postalCode": postal,
                "district": municipality,
                "country": "DK",
            }
        ],
    }


def _encounter(rng: random.Random, patient_ref: str, start: datetime) -> Resource:
    end = start + timedelta(hours=rng.randrange(2, 240))
    return {
        "resourceType": "Encounter",
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "meta": _meta(),
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient"},
        "subject": {"reference": patient_ref},
        "period": {"start": start.isoformat(), "end": end.isoformat()},
    }


def _observation(rng: random.Random, patient_ref: str, when: datetime) -> Resource:
    code, display, unit, unit_text, low, high, decimals = rng.choice(_VITALS)
    value = Decimal(str(round(rng.uniform(low, high), decimals)))
    return {
        "resourceType": "Observation",
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "meta": _meta(),
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": when.isoformat(),
        "valueQuantity": {"value": value, "unit": unit_text, "system": "http://unitsofmeasure.org", "code": unit},
    }


def synthetic_citizens(count: int, seed: int = 1) -> Iterator[list[Resource]]:
    """Per citizen: their Patient, a few Encounters and Observations (with client ids, ready for PUT)."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    for _ in range(count):
        pid = str(uuid.UUID(int=rng.getrandbits(128)))
        ref = f"Patient/{pid}"
        group = [_patient(rng, pid)]
        for _ in range(rng.randrange(0, 3)):
            group.append(
                _encounter(rng, ref, now - timedelta(days=rng.randrange(1, 700), minutes=rng.randrange(0, 1440)))
            )
        for _ in range(rng.randrange(1, 6)):
            group.append(
                _observation(rng, ref, now - timedelta(days=rng.randrange(0, 365), minutes=rng.randrange(0, 1440)))
            )
        yield group
