"""Whether a professional has a treatment relation with a citizen, for editing the card (DOMAIN 4.2).

No national register of treatment relations exists; the evidence is what the registers snapshot
holds (``Registers.relations``) and what bindeled itself knows: the citizen's own GP, the performer or
custodian of one of their overview appointments, the owner of one of their shared plans, and the
hospital unit of their current stay. The professional's SOR unit must lie in the subtree of one of
those units.
"""

from __future__ import annotations

from ..fhir.jsonio import Resource
from ..security.facts import CPR_SYSTEM, identifier_value
from ..security.guard import RequestGuard
from ..store.guard import as_system
from ..store.repository import Repository
from .appointment_model import CUSTODIAN, PERFORMER
from .appointment_rules import extension_value, is_overview_appointment
from .searching import search_all
from .sor_units import read_reference, sor_code

__all__ = ["CURRENT_STAY_TAG", "has_treatment_relation", "units_treating"]

CURRENT_STAY_TAG = "https://bindeled.dk/fhir/CodeSystem/overview|current-stay"
"""The ``_tag`` of a citizen's one current-stay Encounter (written from HospitalNotifications)."""


async def units_treating(repo: Repository, patient: Resource) -> set[str]:
    """SOR codes of the units bindeled has evidence of treating the citizen."""
    ref = f"Patient/{patient['id']}"
    references = list(patient.get("generalPractitioner", ()))
    with as_system():
        for stored in await search_all(repo, "Appointment", [("patient", ref)]):
            body = stored.resource()
            if is_overview_appointment(body) and body.get("status") not in ("cancelled", "entered-in-error"):
                references += [extension_value(body, PERFORMER), extension_value(body, CUSTODIAN)]
        for stored in await search_all(repo, "CarePlan", [("subject", ref), ("status", "active")]):
            references.append(stored.resource().get("author"))
        for stored in await search_all(repo, "Encounter", [("subject", ref), ("_tag", CURRENT_STAY_TAG)]):
            references.append(stored.resource().get("serviceProvider"))
    codes = set()
    for reference in references:
        code = sor_code(await read_reference(repo.store, reference, "Organization"))
        if code is not None:
            codes.add(code)
    return codes


async def has_treatment_relation(repo: Repository, guard: RequestGuard, patient: Resource) -> bool:
    """Whether the guard's professional (or their unit) has evidence of treating the citizen now."""
    principal, session = guard.session.principal, guard.session
    ids = {i for i in (principal.user_id, principal.authorisation_id) if i}
    unit = principal.organisation_sor
    within = session.registers.is_within
    cpr = identifier_value(patient, CPR_SYSTEM)
    for relation in session.registers.relations_of(cpr or "", session.now) if cpr else ():
        if relation.professional_id in ids or (unit is not None and within(unit, relation.organisation_sor)):
            return True
    if unit is None:
        return False
    return any(within(unit, code) for code in await units_treating(repo, patient))
