"""Encounters → HAIBA contacts and ward stays; Patients → persons and deaths; Organizations → places.

A contact is an Encounter with a period; its department is the ``serviceProvider`` (a SOR
Organization), and its hospital and region come from walking that Organization's ``partOf`` chain
(the region is the nearest one carrying a DK-core region code, the hospital the Organization just
below it, by its name). Ward stays are the Encounter's ``location`` entries that have a period. A cancelled or
entered-in-error Encounter, or a deleted one, retracts the contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bindeled.surveillance.extract.lab_rows import reference_id

__all__ = ["REGION_SYSTEM", "Place", "Places", "contact_rows", "person_rows", "stay_rows"]

Resource = Mapping[str, Any]
REGION_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-regional-subdivision-codes"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
_RETRACTING = frozenset({"cancelled", "entered-in-error"})
_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Place:
    department: str
    hospital: str
    region: str


class Places:
    """The Organization tree as of the extract's cut-off: department id → (hospital, region)."""

    def __init__(self, organizations: Mapping[str, Resource]) -> None:
        self._orgs = organizations

    def _region_code(self, org: Resource) -> str | None:
        for ident in org.get("identifier") or []:
            if ident.get("system") == REGION_SYSTEM and ident.get("value"):
                return str(ident["value"])
        return None

    def place(self, department: str) -> Place:
        chain = [department]
        while (parent := reference_id(self._orgs.get(chain[-1], {}).get("partOf"), "Organization")) is not None:
            if parent in chain:
                break
            chain.append(parent)
        for index, org_id in enumerate(chain):
            region = self._region_code(self._orgs.get(org_id, {}))
            if region is not None:
                hospital = chain[index - 1] if index > 0 else department
                return Place(department, self._name(hospital), region)
        return Place(department, self._name(chain[-1]) if len(chain) > 1 else _UNKNOWN, _UNKNOWN)

    def _name(self, org_id: str) -> str:
        """Reports name hospitals as SOR does; the id stands in for an Organization without a name."""
        return str(self._orgs.get(org_id, {}).get("name") or org_id)


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    if len(text) < 19:
        return datetime.fromisoformat(text[:10]).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def contact_rows(
    encounter: Resource, places: Places, *, received_at: datetime, retracted: bool = False
) -> list[dict[str, Any]]:
    """One contact row (none without a subject or start); ``retracted`` marks a withdrawn contact."""
    period = encounter.get("period") or {}
    patient = reference_id(encounter.get("subject"), "Patient")
    start = _instant(period.get("start"))
    if patient is None or start is None:
        return []
    department = reference_id(encounter.get("serviceProvider"), "Organization") or _UNKNOWN
    place = places.place(department)
    return [
        {
            "patient": patient,
            "contact_id": str(encounter.get("id", "")),
            "start": start,
            "end": _instant(period.get("end")),
            "hospital": place.hospital,
            "department": place.department,
            "region": place.region,
            "received_at": received_at,
            "retracted": retracted or encounter.get("status") in _RETRACTING,
        }
    ]


def stay_rows(encounter: Resource, *, received_at: datetime) -> list[dict[str, Any]]:
    """The ward stays of one Encounter version (keyed by the Encounter, so a new version replaces them)."""
    patient = reference_id(encounter.get("subject"), "Patient")
    rows: list[dict[str, Any]] = []
    for index, entry in enumerate(encounter.get("location") or []):
        period = entry.get("period") or {}
        ward = reference_id(entry.get("location"), "Location")
        start = _instant(period.get("start"))
        if patient is None or ward is None or start is None:
            continue
        rows.append(
            {
                "patient": patient,
                "stay_id": f"{encounter.get('id', '')}#{index}",
                "ward": ward,
                "start": start,
                "end": _instant(period.get("end")),
                "received_at": received_at,
                "contact_id": str(encounter.get("id", "")),
            }
        )
    return rows


def _municipality(patient: Resource) -> str | None:
    for ext in patient.get("extension") or []:
        coding = (ext.get("valueCodeableConcept") or {}).get("coding") or []
        for c in coding:
            if c.get("system") == MUNICIPALITY_SYSTEM and c.get("code"):
                return str(c["code"])
    homes = [a for a in patient.get("address") or [] if a.get("use") in (None, "home")]
    return str(homes[0]["district"]) if homes and homes[0].get("district") else None


def person_rows(patient: Resource, *, received_at: datetime) -> list[dict[str, Any]]:
    """Birth date, home municipality and death of one Patient version."""
    birth = patient.get("birthDate")
    return [
        {
            "patient": str(patient.get("id", "")),
            "birth_date": date.fromisoformat(birth[:10]) if birth and len(birth) >= 10 else None,
            "municipality": _municipality(patient) or _UNKNOWN,
            "died_at": _instant(patient.get("deceasedDateTime")),
            "received_at": received_at,
        }
    ]
