"""FHIR resources as the rows the pages show: pure functions, no access to data.

Each takes a resource the gate already let through and returns plain strings for the templates;
missing elements become empty strings, never errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..fhir.jsonio import Resource
from ..overview.appointment_model import OWNER_TYPE
from ..security.facts import CPR_SYSTEM

__all__ = [
    "Row",
    "appointment_row",
    "communication_row",
    "encounter_row",
    "observation_row",
    "patient_summary",
    "person_name",
    "phone_of",
    "plan_row",
    "related_row",
]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a section: when, what, a status or value, and the sector (appointments)."""

    when: str
    what: str
    status: str = ""
    sector: str = ""
    id: str = ""


def _text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding", []):
        if isinstance(coding, dict) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    return ""


def _first_text(concepts: Any) -> str:
    if isinstance(concepts, list):
        for concept in concepts:
            found = _text(concept)
            if found:
                return found
    return ""


def _moment(value: Any) -> str:
    """An ISO dateTime shortened to minutes for reading (``2026-11-01 08:00``)."""
    if not isinstance(value, str):
        return ""
    return value[:16].replace("T", " ")


def person_name(resource: Resource) -> str:
    for name in resource.get("name", []):
        if not isinstance(name, dict):
            continue
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("given", []), name.get("family", "")]
        found = " ".join(str(p) for p in parts if p)
        if found:
            return found
    return ""


def phone_of(resource: Resource) -> str:
    for point in resource.get("telecom", []):
        if isinstance(point, dict) and point.get("system") == "phone" and point.get("value"):
            return str(point["value"])
    return ""


def patient_summary(resource: Resource) -> dict[str, str]:
    cpr = next((str(i.get("value", "")) for i in resource.get("identifier", []) if i.get("system") == CPR_SYSTEM), "")
    return {
        "id": str(resource.get("id", "")),
        "name": person_name(resource),
        "cpr": f"{cpr[:6]}-{cpr[6:]}" if len(cpr) == 10 else cpr,
        "birth": str(resource.get("birthDate", "")),
        "phone": phone_of(resource),
    }


def related_row(resource: Resource) -> Row:
    relation = _first_text(resource.get("relationship"))
    return Row(when=phone_of(resource), what=person_name(resource), status=relation, id=str(resource.get("id", "")))


def _sector(resource: Resource) -> str:
    for extension in resource.get("extension", []):
        if isinstance(extension, dict) and extension.get("url") == OWNER_TYPE:
            return str(extension.get("valueCode", ""))
    return ""


def appointment_row(resource: Resource) -> Row:
    what = (
        _first_text(resource.get("reasonCode"))
        or str(resource.get("description", ""))
        or _first_text(resource.get("serviceType"))
    )
    return Row(
        when=_moment(resource.get("start")),
        what=what,
        status=str(resource.get("status", "")),
        sector=_sector(resource),
        id=str(resource.get("id", "")),
    )


def plan_row(resource: Resource) -> Row:
    period = resource.get("period", {})
    what = (
        str(resource.get("title", "")) or str(resource.get("description", "")) or _first_text(resource.get("category"))
    )
    return Row(
        _moment(period.get("start") if isinstance(period, dict) else None), what, str(resource.get("status", ""))
    )


def _quantity(value: Any) -> str:
    if not isinstance(value, dict) or "value" not in value:
        return ""
    return f"{value['value']} {value.get('unit') or value.get('code') or ''}".strip()


def observation_row(resource: Resource) -> Row:
    value = _quantity(resource.get("valueQuantity")) or _text(resource.get("valueCodeableConcept"))
    value = value or str(resource.get("valueString", ""))
    when = resource.get("effectiveDateTime") or resource.get("issued")
    return Row(_moment(when), _text(resource.get("code")), value)


def communication_row(resource: Resource) -> Row:
    what = _first_text(resource.get("category")) or _text(resource.get("topic"))
    for payload in resource.get("payload", []):
        if isinstance(payload, dict) and payload.get("contentString") and not what:
            what = str(payload["contentString"])[:80]
    return Row(_moment(resource.get("sent")), what, str(resource.get("status", "")))


def encounter_row(resource: Resource) -> Row:
    period = resource.get("period", {})
    klass = resource.get("class", {})
    what = _first_text(resource.get("type")) or (str(klass.get("display") or klass.get("code", "")) if klass else "")
    start = period.get("start") if isinstance(period, dict) else None
    return Row(_moment(start), what, str(resource.get("status", "")))
