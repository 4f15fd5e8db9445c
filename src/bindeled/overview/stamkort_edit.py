"""Edits of the Fælles Stamkort: parsing the request, applying it to the Patient, naming what changed.

An edit is a ``Parameters`` resource. Each editable field it names replaces that field (a field it
leaves out stays as it is); a field named without a value clears it:

* ``phone`` (valueContactPoint or valueString; repeating) — the citizen's phone numbers;
* ``relative`` (parts ``name`` valueString or valueHumanName, ``relationship`` valueCoding or
  valueCodeableConcept or valueString, ``phone`` valueString; repeating) — the relatives;
* ``temporaryAddress`` (valueAddress with a ``period``) — the one temporary address;
* ``preferredLanguage`` (valueCode, e.g. ``da``);
* ``dentist`` (valueReference to an Organization).

A register field (``cpr``, ``name``, ``address`` …) is 422 ``field_read_only``; any other name is 400.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequest, Unprocessable
from ..fhir.jsonio import Resource
from .stamkort_model import DENTIST, EDITABLE_FIELDS, REGISTER_FIELDS

__all__ = ["CardEdit", "apply_edit", "parse_edit", "relative_resource"]

_LANGUAGE_SYSTEM = "urn:ietf:bcp:47"


@dataclass
class CardEdit:
    """What one edit asks for: for each named field, its new value(s)."""

    fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.fields)


def _value(param: dict[str, Any]) -> tuple[str, Any] | None:
    for key, value in param.items():
        if key.startswith("value"):
            return key[5:], value
    return None


def parse_edit(body: Resource) -> CardEdit:
    """The edit in a ``Parameters`` body; 400 for anything else, 422 for a register field."""
    if body.get("resourceType") != "Parameters":
        raise InvalidRequest("A card edit is a Parameters resource", location=("resourceType",))
    edit = CardEdit()
    for index, param in enumerate(body.get("parameter", ())):
        name = param.get("name") if isinstance(param, dict) else None
        where = f"Parameters.parameter[{index}]"
        if name in REGISTER_FIELDS:
            raise Unprocessable(
                f"The card field {name!r} comes from a register and cannot be changed here",
                details_code="field_read_only",
                location=(where,),
            )
        if name not in EDITABLE_FIELDS:
            raise InvalidRequest(f"{name!r} is not a field of the card", location=(f"{where}.name",))
        edit.fields.setdefault(str(name), []).append(param)
    if not edit.fields:
        raise InvalidRequest("The edit changes nothing", location=("Parameters.parameter",))
    return edit


def _phone(param: dict[str, Any], where: str) -> dict[str, Any] | None:
    found = _value(param)
    if found is None:
        return None
    kind, value = found
    if kind == "String" and isinstance(value, str) and value.strip():
        return {"system": "phone", "value": value.strip()}
    if kind == "ContactPoint" and isinstance(value, dict) and value.get("value"):
        return {**value, "system": "phone"}
    raise InvalidRequest("A phone is a valueString or a valueContactPoint with a value", location=(where,))


def _phones(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [_phone(p, f"phone[{i}]") for i, p in enumerate(params)]
    return [p for p in found if p is not None]


def _single(params: list[dict[str, Any]], name: str, kind: str) -> Any:
    if len(params) > 1:
        raise InvalidRequest(f"The card has one {name}", location=(name,))
    found = _value(params[0])
    if found is None:
        return None
    if found[0] != kind:
        raise InvalidRequest(f"{name} takes a value{kind}", location=(name,))
    return found[1]


def _temporary_address(params: list[dict[str, Any]]) -> dict[str, Any] | None:
    address = _single(params, "temporaryAddress", "Address")
    if address is None:
        return None
    period = address.get("period") if isinstance(address, dict) else None
    if not isinstance(period, dict) or not period.get("start") or not period.get("end"):
        raise InvalidRequest("A temporary address needs a period with start and end", location=("temporaryAddress",))
    if period["end"] < period["start"]:
        raise InvalidRequest("A temporary address cannot end before it starts", location=("temporaryAddress",))
    return {**address, "use": "temp"}


def apply_edit(patient: Resource, edit: CardEdit) -> Resource:
    """The Patient with the edit's Patient fields applied (relatives are separate resources)."""
    changed = copy.deepcopy(patient)
    if "phone" in edit.fields:
        others = [t for t in changed.get("telecom", ()) if t.get("system") != "phone"]
        changed["telecom"] = others + _phones(edit.fields["phone"])
    if "temporaryAddress" in edit.fields:
        homes = [a for a in changed.get("address", ()) if a.get("use") != "temp"]
        temporary = _temporary_address(edit.fields["temporaryAddress"])
        changed["address"] = homes + ([temporary] if temporary else [])
    if "preferredLanguage" in edit.fields:
        language = _single(edit.fields["preferredLanguage"], "preferredLanguage", "Code")
        others = [c for c in changed.get("communication", ()) if not c.get("preferred")]
        mine = [{"language": {"coding": [{"system": _LANGUAGE_SYSTEM, "code": language}]}, "preferred": True}]
        changed["communication"] = others + (mine if language else [])
    if "dentist" in edit.fields:
        dentist = _single(edit.fields["dentist"], "dentist", "Reference")
        others = [e for e in changed.get("extension", ()) if e.get("url") != DENTIST]
        changed["extension"] = others + ([{"url": DENTIST, "valueReference": dentist}] if dentist else [])
    return {k: v for k, v in changed.items() if v != []}


def _relationship(param: dict[str, Any]) -> dict[str, Any]:
    kind, value = _value(param) or ("", None)
    if kind == "CodeableConcept" and isinstance(value, dict):
        return value
    if kind == "Coding" and isinstance(value, dict):
        return {"coding": [value]}
    if kind == "String" and isinstance(value, str) and value.strip():
        return {"text": value.strip()}
    raise InvalidRequest("A relationship is a Coding, a CodeableConcept or a text", location=("relative",))


def relative_resource(patient_id: str, param: dict[str, Any]) -> Resource:
    """A RelatedPerson for one ``relative`` parameter (relationship and a name are required)."""
    parts = {p.get("name"): p for p in param.get("part", ()) if isinstance(p, dict)}
    if "relationship" not in parts or "name" not in parts:
        raise InvalidRequest("A relative needs a name and a relationship", location=("relative",))
    kind, name = _value(parts["name"]) or ("", None)
    human = name if kind == "HumanName" and isinstance(name, dict) else {"text": str(name or "").strip()}
    if not human.get("text") and not human.get("family"):
        raise InvalidRequest("A relative needs a name", location=("relative.name",))
    relative: Resource = {
        "resourceType": "RelatedPerson",
        "patient": {"reference": f"Patient/{patient_id}"},
        "active": True,
        "relationship": [_relationship(parts["relationship"])],
        "name": [human],
    }
    phone = _phone(parts["phone"], "relative.phone") if "phone" in parts else None
    if phone:
        relative["telecom"] = [phone]
    return relative
