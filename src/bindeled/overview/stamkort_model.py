"""The Fælles Stamkort (shared master-data card) as FHIR: a Patient plus RelatedPersons plus Provenances.

Representation (chosen over a dedicated resource so that every other service keeps reading the
ordinary Patient):

* **Register data** — read-only through the card, written only by register imports (trusted jobs)
  and administrators: the CPR identifier, ``name``, ``birthDate``, ``gender``, the home
  ``address`` (any ``use`` but ``temp``), ``generalPractitioner`` (the GP's Organization) and the
  extensions :data:`HEALTH_INSURANCE_GROUP` (valueCode ``1``/``2``), :data:`CUSTODY_HOLDER`
  (valueReference to the holder's Patient, repeating), :data:`REGISTERED_CHOICE` (sub-extensions
  ``kind`` = ``organ-donor`` | ``living-will`` | ``treatment-will`` and ``registered`` = boolean:
  only *whether* a choice exists is ever stored, never its content), :data:`ADDRESS_PROTECTED`
  (valueBoolean) and :data:`MUNICIPALITY` (valueCode: the kommunekode of residence).
* **Editable data** — the citizen, their proxy or a professional with a treatment relation, through
  ``PATCH Patient/{id}/$stamkort``: phone numbers (``telecom`` with ``system = phone``), the one
  temporary address (``address`` with ``use = temp`` and a ``period``), the preferred language
  (``communication`` with ``preferred = true``), the dentist (:data:`DENTIST`, valueReference to a SOR
  Organization) and the relatives: ``RelatedPerson`` resources of the patient with ``relationship``,
  ``name`` and ``telecom``.
* **Who changed what** — every card edit writes a ``Provenance`` (target the Patient, entity the new
  Patient version, agent the user by id and full name on behalf of their organisation) listing the
  changed fields in :data:`CHANGED_FIELD` extensions; the card shows them as its change log.

The card itself is served as a ``Parameters`` resource with three parts — ``register``, ``editable``
and ``change`` — built by :func:`card_parameters`.
"""

from __future__ import annotations

from typing import Any

from ..fhir.jsonio import Resource
from ..security.facts import CPR_SYSTEM, identifier_value
from .appointment_model import EXT

__all__ = [
    "ADDRESS_PROTECTED",
    "CHANGED_FIELD",
    "CHOICE_KINDS",
    "CUSTODY_HOLDER",
    "DENTIST",
    "EDITABLE_FIELDS",
    "HEALTH_INSURANCE_GROUP",
    "MASKED_ADDRESS",
    "MUNICIPALITY",
    "REGISTERED_CHOICE",
    "REGISTER_FIELDS",
    "card_parameters",
    "editable_view",
    "ext_values",
    "is_protected",
    "register_view",
]

HEALTH_INSURANCE_GROUP = EXT + "stamkort-health-insurance-group"
CUSTODY_HOLDER = EXT + "stamkort-custody-holder"
REGISTERED_CHOICE = EXT + "stamkort-registered-choice"
ADDRESS_PROTECTED = EXT + "stamkort-address-protected"
MUNICIPALITY = EXT + "stamkort-municipality"
DENTIST = EXT + "stamkort-dentist"
CHANGED_FIELD = EXT + "stamkort-changed-field"

CHOICE_KINDS = ("organ-donor", "living-will", "treatment-will")
_CHOICE_NAMES = {"organ-donor": "organDonor", "living-will": "livingWill", "treatment-will": "treatmentWill"}

REGISTER_FIELDS = (
    "cpr",
    "name",
    "birthDate",
    "gender",
    "address",
    "healthInsuranceGroup",
    "generalPractitioner",
    "custodyHolder",
    "organDonor",
    "livingWill",
    "treatmentWill",
    "addressProtected",
    "municipality",
)
"""The card's register fields: read-only through the card (an edit is 422 ``field_read_only``)."""

EDITABLE_FIELDS = ("phone", "relative", "temporaryAddress", "preferredLanguage", "dentist")
"""The card's editable fields."""

MASKED_ADDRESS = "ADRESSEBESKYTTET"
"""What stands in for a protected address outside the citizen's municipality (our convention, DOMAIN 4.4)."""


def ext_values(resource: Resource, url: str) -> list[Any]:
    """The ``value[x]`` of every extension with ``url``."""
    return [
        next((v for k, v in ext.items() if k.startswith("value")), None)
        for ext in resource.get("extension", ())
        if isinstance(ext, dict) and ext.get("url") == url
    ]


def _first(resource: Resource, url: str) -> Any:
    values = ext_values(resource, url)
    return values[0] if values else None


def _choices(patient: Resource) -> dict[str, bool]:
    """Whether each kind of choice is registered (only the fact, never the content)."""
    found = dict.fromkeys(CHOICE_KINDS, False)
    for ext in patient.get("extension", ()):
        if not isinstance(ext, dict) or ext.get("url") != REGISTERED_CHOICE:
            continue
        parts = {p.get("url"): p for p in ext.get("extension", ()) if isinstance(p, dict)}
        kind = parts.get("kind", {}).get("valueCode")
        if kind in found:
            found[kind] = parts.get("registered", {}).get("valueBoolean") is True
    return found


def is_protected(patient: Resource) -> bool:
    return _first(patient, ADDRESS_PROTECTED) is True


def _home_addresses(patient: Resource) -> list[Any]:
    return [a for a in patient.get("address", ()) if isinstance(a, dict) and a.get("use") != "temp"]


def register_view(patient: Resource) -> dict[str, Any]:
    """The register fields of a Patient, for comparing versions (read-only rule) and for the card."""
    return {
        "cpr": identifier_value(patient, CPR_SYSTEM),
        "name": patient.get("name"),
        "birthDate": patient.get("birthDate"),
        "gender": patient.get("gender"),
        "address": _home_addresses(patient),
        "healthInsuranceGroup": _first(patient, HEALTH_INSURANCE_GROUP),
        "generalPractitioner": patient.get("generalPractitioner"),
        "custodyHolder": ext_values(patient, CUSTODY_HOLDER),
        **{_CHOICE_NAMES[k]: v for k, v in _choices(patient).items()},
        "addressProtected": is_protected(patient),
        "municipality": _first(patient, MUNICIPALITY),
    }


def editable_view(patient: Resource) -> dict[str, Any]:
    """The editable fields stored on the Patient (relatives live in RelatedPerson resources)."""
    temporary = [a for a in patient.get("address", ()) if isinstance(a, dict) and a.get("use") == "temp"]
    preferred = [c for c in patient.get("communication", ()) if isinstance(c, dict) and c.get("preferred")]
    language = preferred[0].get("language", {}).get("coding", [{}])[0].get("code") if preferred else None
    return {
        "phone": [t for t in patient.get("telecom", ()) if isinstance(t, dict) and t.get("system") == "phone"],
        "temporaryAddress": temporary[0] if temporary else None,
        "preferredLanguage": language,
        "dentist": _first(patient, DENTIST),
    }


def _param(name: str, kind: str, value: Any) -> list[dict[str, Any]]:
    return [] if value is None or value == [] else [{"name": name, f"value{kind}": value}]


def _masked_address() -> dict[str, Any]:
    return {"text": MASKED_ADDRESS}


def _register_parts(patient: Resource, hide_address: bool) -> list[dict[str, Any]]:
    view = register_view(patient)
    parts = _param("cpr", "Identifier", {"system": CPR_SYSTEM, "value": view["cpr"]} if view["cpr"] else None)
    parts += [p for name in patient.get("name", ()) for p in _param("name", "HumanName", name)]
    parts += _param("birthDate", "Date", view["birthDate"])
    addresses = [_masked_address()] if hide_address and view["address"] else view["address"]
    parts += [p for a in addresses for p in _param("address", "Address", a)]
    parts += _param("healthInsuranceGroup", "Code", view["healthInsuranceGroup"])
    parts += [p for gp in view["generalPractitioner"] or () for p in _param("generalPractitioner", "Reference", gp)]
    parts += [p for holder in view["custodyHolder"] for p in _param("custodyHolder", "Reference", holder)]
    for kind in CHOICE_KINDS:
        parts += _param(_CHOICE_NAMES[kind], "Boolean", view[_CHOICE_NAMES[kind]])
    parts += _param("addressProtected", "Boolean", view["addressProtected"])
    parts += _param("municipality", "Code", view["municipality"])
    return parts


def _relative_parts(relative: Resource) -> list[dict[str, Any]]:
    parts = _param("id", "String", relative.get("id"))
    parts += [p for name in relative.get("name", ()) for p in _param("name", "HumanName", name)]
    parts += [p for rel in relative.get("relationship", ()) for p in _param("relationship", "CodeableConcept", rel)]
    phones = [t for t in relative.get("telecom", ()) if isinstance(t, dict) and t.get("system") == "phone"]
    parts += [p for phone in phones for p in _param("phone", "ContactPoint", phone)]
    return parts


def _editable_parts(patient: Resource, relatives: list[Resource], hide_address: bool) -> list[dict[str, Any]]:
    view = editable_view(patient)
    parts = [p for phone in view["phone"] for p in _param("phone", "ContactPoint", phone)]
    parts += [{"name": "relative", "part": _relative_parts(r)} for r in relatives]
    temporary = view["temporaryAddress"]
    if temporary is not None:
        shown = {**_masked_address(), "period": temporary["period"]} if hide_address and "period" in temporary else None
        parts += _param("temporaryAddress", "Address", shown or (_masked_address() if hide_address else temporary))
    parts += _param("preferredLanguage", "Code", view["preferredLanguage"])
    parts += _param("dentist", "Reference", view["dentist"])
    return parts


def _change_parts(provenance: Resource) -> list[dict[str, Any]]:
    agent = (provenance.get("agent") or [{}])[0]
    who = agent.get("who", {})
    org = agent.get("onBehalfOf", {})
    parts = _param("time", "Instant", provenance.get("recorded"))
    parts += _param("who", "String", who.get("display") or who.get("identifier", {}).get("value"))
    parts += _param("role", "String", (agent.get("role") or [{}])[0].get("text"))
    parts += _param("organisation", "String", org.get("display") or org.get("identifier", {}).get("value"))
    parts += [p for field in ext_values(provenance, CHANGED_FIELD) for p in _param("field", "String", field)]
    return parts


def card_parameters(
    patient: Resource, relatives: list[Resource], changes: list[Resource], *, hide_address: bool
) -> list[dict[str, Any]]:
    """The card as ``Parameters.parameter`` entries: ``register``, ``editable`` and one ``change`` per edit."""
    found: list[dict[str, Any]] = [
        {"name": "patient", "valueReference": {"reference": f"Patient/{patient['id']}"}},
        {"name": "register", "part": _register_parts(patient, hide_address)},
        {"name": "editable", "part": _editable_parts(patient, relatives, hide_address)},
    ]
    found += [{"name": "change", "part": _change_parts(p)} for p in changes]
    return [p for p in found if p.get("part") != []]
