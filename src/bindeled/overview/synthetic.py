"""Synthetic overview data for given synthetic citizens and a SOR tree: cards, relatives, appointments, plans.

For the demo and the benchmark. Seeded (the same seed gives the same data), tagged ``SYNTHETIC`` like
all demo data, and shaped exactly as the write rules would leave it, so it can be bulk-loaded through
the store without the API: every appointment carries its contact phone (from SOR, inherited where the
unit has none) and its performing unit as a participant; every municipal one a legal basis from the
default allow-list.

Per citizen: the Patient with register data (GP, municipality, health-insurance group, registered
choices, now and then address protection) and editable data (sometimes a temporary address and a
preferred language), 0–2 relatives, appointments from hospital wards, the GP practice and municipal
home care (about half in the past), a home-care plan for about a third, and a current stay for a few.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..demo.patients import SYNTHETIC_TAG
from ..fhir.jsonio import Resource
from ..registry.model import Level
from ..registry.tree import SorTree
from ..security.facts import SOR_SYSTEM
from .appointment_model import (
    AT_HOME,
    CONTACT_PHONE,
    CUSTODIAN,
    LEGAL_BASIS,
    LEGAL_BASIS_SYSTEM,
    OWNER_TYPE,
    PERFORMER,
    TIME_IS_GUIDE,
)
from .appointment_rules import DEFAULT_LEGAL_BASES
from .stamkort_model import ADDRESS_PROTECTED, HEALTH_INSURANCE_GROUP, MUNICIPALITY, REGISTERED_CHOICE
from .treatment import CURRENT_STAY_TAG

__all__ = ["OverviewUnits", "Unit", "overview_units", "synthetic_overview", "with_overview"]

_FSIII = "http://kl.dk/fhir/common/caresocial/CodeSystem/FSIII"
_INTERVENTIONS = (("B2", "Personlig pleje"), ("B3", "Praktisk hjælp"), ("G1", "Genoptræning"), ("S1", "Sygepleje"))
_REASONS = {
    "regional": ("Ambulant kontrol", "Blodprøvetagning", "Røntgenundersøgelse", "Forundersøgelse"),
    "practice": ("Årskontrol", "Vaccination", "Samtale", "Kontrol af blodtryk"),
    "municipal": ("Hjemmehjælp", "Hjemmesygepleje", "Genoptræning", "Forebyggende hjemmebesøg"),
}
_RELATIONS = (("MTH", "mor"), ("FTH", "far"), ("DAU", "datter"), ("SON", "søn"), ("SPS", "ægtefælle"))
_ROLE_CODES = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


@dataclass(frozen=True, slots=True)
class Unit:
    """A SOR unit appointments or plans can name."""

    sor_code: str
    name: str
    phone: str | None
    municipality: str | None


@dataclass(frozen=True, slots=True)
class OverviewUnits:
    """The units of a region by sector."""

    wards: tuple[Unit, ...]
    practices: tuple[Unit, ...]
    home_care: tuple[Unit, ...]


def overview_units(tree: SorTree, on: date) -> OverviewUnits:
    """Hospital sections (7-character SHAK), active GP units (with a ydernummer) and municipal care units."""
    wards, practices, care = [], [], []
    for entity in tree.active(on):
        if entity.level is not Level.UNIT:
            continue
        resolved = tree.resolve(entity.sor_code)
        owner = tree.owner(entity.sor_code)
        unit = Unit(entity.sor_code, entity.name, resolved.phone.value if resolved.phone else None,
                    owner.municipality_code)  # fmt: skip
        if entity.shak is not None and len(entity.shak) == 7:
            wards.append(unit)
        elif entity.ydernummer is not None:
            practices.append(unit)
        elif owner.municipality_code is not None:
            care.append(unit)
    return OverviewUnits(tuple(wards), tuple(practices), tuple(care))


def _meta() -> dict[str, Any]:
    return {"tag": [dict(SYNTHETIC_TAG)]}


def _org(unit: Unit) -> dict[str, str]:
    return {"reference": f"Organization/sor-{unit.sor_code}"}


def _choice(kind: str, registered: bool) -> dict[str, Any]:
    parts = [{"url": "kind", "valueCode": kind}, {"url": "registered", "valueBoolean": registered}]
    return {"url": REGISTERED_CHOICE, "extension": parts}


@dataclass
class _Citizen:
    rng: random.Random
    units: OverviewUnits
    now: datetime
    patient: Resource
    municipality: str
    gp: Unit
    care: Sequence[Unit]

    @property
    def ref(self) -> str:
        return f"Patient/{self.patient['id']}"

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def card(self) -> Resource:
        rng, patient = self.rng, copy.deepcopy(self.patient)
        patient["generalPractitioner"] = [_org(self.gp)]
        extensions = [e for e in patient.get("extension", ()) if e.get("url") not in (MUNICIPALITY,)]
        extensions += [
            {"url": MUNICIPALITY, "valueCode": self.municipality},
            {"url": HEALTH_INSURANCE_GROUP, "valueCode": "1" if rng.random() < 0.98 else "2"},
            _choice("organ-donor", rng.random() < 0.3),
            _choice("living-will", rng.random() < 0.05),
            _choice("treatment-will", rng.random() < 0.02),
        ]
        if rng.random() < 0.02:
            extensions.append({"url": ADDRESS_PROTECTED, "valueBoolean": True})
        patient["extension"] = extensions
        if rng.random() < 0.05:
            start = (self.now + timedelta(days=rng.randrange(-30, 30))).date()
            period = {"start": start.isoformat(), "end": (start + timedelta(days=30)).isoformat()}
            temporary: dict[str, Any] = {"use": "temp", "line": ["Sommerhusvej 1"], "city": "Bogense"}
            temporary["period"] = period
            patient["address"] = [*patient.get("address", ()), temporary]
        if rng.random() < 0.1:
            language = {"coding": [{"system": "urn:ietf:bcp:47", "code": rng.choice(("da", "en", "de", "tr"))}]}
            patient["communication"] = [{"language": language, "preferred": True}]
        patient["meta"] = _meta()
        return patient

    def relatives(self) -> list[Resource]:
        found = []
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            code, text = self.rng.choice(_RELATIONS)
            found.append({
                "resourceType": "RelatedPerson", "id": self.uid(), "meta": _meta(), "active": True,
                "patient": {"reference": self.ref},
                "relationship": [{"coding": [{"system": _ROLE_CODES, "code": code}], "text": text}],
                "name": [{"text": f"Syntetisk pårørende ({text})"}],
                "telecom": [{"system": "phone", "value": f"+45 {self.rng.randrange(20000000, 99999999)}"}],
            })  # fmt: skip
        return found

    def appointment(self, owner_type: str, unit: Unit, start: datetime, minutes: int) -> Resource:
        rng = self.rng
        at_home = owner_type == "municipal"
        participants: list[dict[str, Any]] = [{"actor": {"reference": self.ref}, "status": "accepted"}]
        if not at_home:
            participants.append({"actor": {"reference": f"Location/sor-{unit.sor_code}"}, "status": "accepted"})
        kind = {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PPRF"}
        participants.append({"type": [{"coding": [kind]}], "required": "information-only", "status": "accepted",
                             "actor": {"identifier": {"system": SOR_SYSTEM, "value": unit.sor_code},
                                       "display": unit.name}})  # fmt: skip
        extensions: list[dict[str, Any]] = [
            {"url": OWNER_TYPE, "valueCode": owner_type},
            {"url": PERFORMER, "valueReference": _org(unit)},
            {"url": CUSTODIAN, "valueReference": _org(unit)},
        ]
        if at_home:
            basis = rng.choice(DEFAULT_LEGAL_BASES)
            extensions += [
                {"url": AT_HOME, "valueBoolean": True},
                {"url": LEGAL_BASIS, "valueCoding": {"system": LEGAL_BASIS_SYSTEM, "code": basis}},
                {"url": TIME_IS_GUIDE, "valueBoolean": True},
            ]
        elif unit.phone:
            phone = {"system": "phone", "value": unit.phone, "use": "work"}
            extensions.append({"url": CONTACT_PHONE, "valueContactPoint": phone})
        return {
            "resourceType": "Appointment", "id": self.uid(), "meta": _meta(), "extension": extensions,
            "status": "booked", "reasonCode": [{"text": rng.choice(_REASONS[owner_type])}],
            "start": start.isoformat(), "end": (start + timedelta(minutes=minutes)).isoformat(),
            "participant": participants,
        }  # fmt: skip

    def appointments(self, count: int) -> list[Resource]:
        rng, found = self.rng, []
        for _ in range(count):
            day = self.now.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=rng.randrange(-90, 90))
            start = day + timedelta(minutes=15 * rng.randrange(0, 36))
            sector = rng.random()
            if sector < 0.5 and self.care:
                found.append(self.appointment("municipal", rng.choice(self.care), start, 30))
            elif sector < 0.75:
                found.append(self.appointment("practice", self.gp, start, 15))
            else:
                found.append(self.appointment("regional", rng.choice(self.units.wards), start, 45))
        return found

    def plan(self) -> Resource | None:
        if not self.care or self.rng.random() > 0.33:
            return None
        owner = self.rng.choice(self.care)
        start = (self.now - timedelta(days=self.rng.randrange(1, 300))).date().isoformat()
        activities = []
        for code, display in self.rng.sample(_INTERVENTIONS, self.rng.randrange(1, 3)):
            detail = {"code": {"coding": [{"system": _FSIII, "code": code, "display": display}]},
                      "status": self.rng.choice(("scheduled", "in-progress", "in-progress")),
                      "performer": [_org(owner)], "scheduledPeriod": {"start": start}}  # fmt: skip
            activities.append({"detail": detail})
        return {
            "resourceType": "CarePlan", "id": self.uid(), "meta": _meta(), "status": "active", "intent": "plan",
            "subject": {"reference": self.ref}, "author": _org(owner), "period": {"start": start},
            "activity": activities,
        }  # fmt: skip

    def stay(self) -> Resource | None:
        if self.rng.random() > 0.03:
            return None
        ward = self.rng.choice(self.units.wards)
        tags = [dict(SYNTHETIC_TAG), {"system": CURRENT_STAY_TAG.split("|")[0], "code": "current-stay"}]
        return {
            "resourceType": "Encounter", "id": self.uid(), "meta": {"tag": tags},
            "status": self.rng.choice(("in-progress", "in-progress", "onleave")),
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"reference": self.ref},
            "period": {"start": (self.now - timedelta(hours=self.rng.randrange(2, 200))).isoformat()},
            "serviceProvider": _org(ward),
            "extension": [{"url": "https://bindeled.dk/fhir/StructureDefinition/stay-deceased", "valueBoolean": False}],
        }  # fmt: skip


def synthetic_overview(
    patients: Sequence[Resource],
    units: OverviewUnits,
    *,
    now: datetime,
    seed: int = 5,
    appointments_per_citizen: int = 20,
) -> Iterator[list[Resource]]:
    """Per citizen: their card (the Patient), relatives, appointments, maybe a plan and a current stay."""
    if not units.wards or not units.practices:
        raise ValueError("the SOR tree needs hospital wards and GP practices")
    rng = random.Random(seed)
    by_municipality: dict[str, list[Unit]] = {}
    for unit in units.home_care:
        by_municipality.setdefault(unit.municipality or "", []).append(unit)
    municipalities = sorted(by_municipality)
    for patient in patients:
        municipality = rng.choice(municipalities) if municipalities else "000"
        citizen = _Citizen(rng, units, now, patient, municipality, rng.choice(units.practices),
                           by_municipality.get(municipality, []))  # fmt: skip
        found = [citizen.card(), *citizen.relatives(), *citizen.appointments(appointments_per_citizen)]
        found += [r for r in (citizen.plan(), citizen.stay()) if r is not None]
        yield found


def with_overview(
    groups: Iterable[list[Resource]], tree: SorTree, *, now: datetime, seed: int = 5, appointments_per_citizen: int = 8
) -> Iterator[list[Resource]]:
    """The demo's citizen groups (Patient first) with the Patient turned into a card and overview data added."""
    units = overview_units(tree, now.date())
    for group in groups:
        extra = next(
            synthetic_overview([group[0]], units, now=now, seed=seed, appointments_per_citizen=appointments_per_citizen)
        )
        seed += 1
        yield [*extra[:1], *group[1:], *extra[1:]]
