"""Facts about a stored resource that the policy needs: whose data it is, where it comes from, when.

The store keeps FHIR resources as JSON trees; the policy wants a :class:`~.policy.Target`. The
citizen is found through the resource's patient reference (or the Patient's own CPR identifier),
the source organisation through the first reference of the type's author / performer / provider
elements that names a SOR unit, and the service time from the type's main date element. Resolving
references to CPR numbers and SOR codes needs the store, so the caller passes look-up functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from ..fhir.jsonio import Resource
from .errors import AuthorInstitutionNotSor
from .policy import Target

__all__ = [
    "CPR_SYSTEM",
    "DISPLAY_SYSTEM",
    "REFUSED_DISPLAY",
    "SOR_SYSTEM",
    "Resolver",
    "identifier_value",
    "is_refused_display",
    "require_sor_institution",
    "target_of",
]

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
DISPLAY_SYSTEM = "https://bindeled.dk/fhir/CodeSystem/display"
REFUSED_DISPLAY = {"system": DISPLAY_SYSTEM, "code": "refused"}
"""The ``meta.security`` label of data the citizen's view must not show (e.g. a result refused for display)."""

Resolver = Callable[[str], str | None]
"""Maps a literal reference (``Patient/1``, ``Organization/2``) to a CPR number or SOR code."""

_PATIENT_ELEMENTS = ("subject", "patient", "beneficiary", "participant")
_ORGANISATION_ELEMENTS: Mapping[str, tuple[str, ...]] = {
    "Encounter": ("serviceProvider", "participant"),
    "Appointment": ("participant",),
    "Observation": ("performer",),
    "DiagnosticReport": ("performer", "resultsInterpreter"),
    "MedicationRequest": ("requester", "performer"),
    "MedicationStatement": ("informationSource",),
    "CarePlan": ("author", "contributor"),
    "ServiceRequest": ("requester", "performer"),
    "Procedure": ("performer",),
    "Condition": ("recorder", "asserter"),
    "Communication": ("sender",),
    "Patient": ("managingOrganization",),
}
_DEFAULT_ORGANISATION = ("performer", "author", "requester", "recorder", "organization")
_TIME_ELEMENTS = (
    "start",
    "period",
    "effectiveDateTime",
    "effectivePeriod",
    "performedDateTime",
    "performedPeriod",
    "authoredOn",
    "occurrenceDateTime",
    "occurrencePeriod",
    "recordedDate",
    "issued",
    "sent",
)


def _references(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every Reference in an element: itself, a list of them, or inside ``actor`` / ``individual``."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        if "reference" in item or "identifier" in item:
            yield item
        for inner in ("actor", "individual"):
            if isinstance(item.get(inner), dict):
                yield item[inner]


def _identified(reference: Mapping[str, Any], system: str) -> str | None:
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and identifier.get("system") == system:
        value = identifier.get("value")
        return value if isinstance(value, str) else None
    return None


def identifier_value(resource: Resource, system: str) -> str | None:
    """The value of a resource's first identifier in ``system`` (a CPR number, a SOR code …)."""
    for identifier in resource.get("identifier", ()):
        if isinstance(identifier, dict) and identifier.get("system") == system:
            value = identifier.get("value")
            return value if isinstance(value, str) else None
    return None


def _patient(resource: Resource, citizen_of: Resolver) -> tuple[str | None, str | None]:
    """The citizen (CPR) and their Patient reference."""
    if resource.get("resourceType") == "Patient":
        ref = f"Patient/{resource['id']}" if "id" in resource else None
        return identifier_value(resource, CPR_SYSTEM), ref
    for element in _PATIENT_ELEMENTS:
        for reference in _references(resource.get(element)):
            ref = reference.get("reference")
            if isinstance(ref, str) and ref.startswith("Patient/"):
                return citizen_of(ref), ref
            cpr = _identified(reference, CPR_SYSTEM)
            if cpr is not None:
                return cpr, None
    return None, None


def _organisation(resource: Resource, sor_of: Resolver) -> str | None:
    elements = _ORGANISATION_ELEMENTS.get(str(resource.get("resourceType")), _DEFAULT_ORGANISATION)
    for element in elements:
        for reference in _references(resource.get(element)):
            sor = _identified(reference, SOR_SYSTEM)
            ref = reference.get("reference")
            if sor is None and isinstance(ref, str) and ref.startswith("Organization/"):
                sor = sor_of(ref)
            if sor is not None:
                return sor
    return None


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        moment = datetime.fromisoformat(text if "T" in text else text[:10] + "T00:00:00+00:00")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _service_time(resource: Resource) -> datetime | None:
    for element in _TIME_ELEMENTS:
        value = resource.get(element)
        if isinstance(value, dict):
            value = value.get("start")
        moment = _instant(value)
        if moment is not None:
            return moment
    return None


def is_refused_display(resource: Resource) -> bool:
    """Whether ``meta.security`` carries the ``refused`` display label."""
    meta = resource.get("meta")
    labels = meta.get("security") if isinstance(meta, dict) else None
    if not isinstance(labels, list):
        return False
    return any(
        isinstance(label, dict) and label.get("system") == DISPLAY_SYSTEM and label.get("code") == "refused"
        for label in labels
    )


def target_of(resource: Resource, citizen_of: Resolver, sor_of: Resolver) -> Target:
    """The policy's view of ``resource``."""
    citizen, patient_ref = _patient(resource, citizen_of)
    organisation, when = _organisation(resource, sor_of), _service_time(resource)
    return Target(citizen, organisation, when, patient_ref, is_refused_display(resource))


def require_sor_institution(identifier: Mapping[str, Any] | None, location: str) -> str:
    """The SOR code of an author institution; a CVR number or anything else is ``author_institution_not_sor``."""
    value = None if identifier is None else identifier.get("value")
    if identifier is None or identifier.get("system") != SOR_SYSTEM or not isinstance(value, str):
        raise AuthorInstitutionNotSor(location)
    if not (value.isdigit() and 11 <= len(value) <= 18):
        raise AuthorInstitutionNotSor(location)
    return value
