"""Reading and editing the Fælles Stamkort through the repository, under the request's guard.

Reading: the Patient (the gate decides whether the caller may see it), the relatives (when the
caller's purpose covers RelatedPerson) and the change log; a protected address is masked for staff
outside the citizen's municipality. Editing: the gate must allow an update of the Patient; then the
editor must be the citizen, their proxy, or a professional working under the purpose ``ESP_STAMKORT``
(403 ``purpose_not_covering``) with a treatment relation (403 ``no_treatment_relation``); the Patient,
the relatives and a Provenance naming the editor and the changed fields are written in one
transaction, with the request's audit and MinLog entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import Gone, NotFound
from ..fhir.jsonio import Resource
from ..security.errors import AccessRefused
from ..security.facts import SOR_SYSTEM
from ..security.guard import RequestGuard
from ..security.principal import Principal
from ..store.base import Transaction, run_transaction
from ..store.guard import Guard, as_system, current_guard
from ..store.repository import Repository
from .principals import principal_of
from .searching import search_all
from .sor_units import municipality_of, organisation_for_sor
from .stamkort_edit import CardEdit, apply_edit, relative_resource
from .stamkort_model import CHANGED_FIELD, MUNICIPALITY, card_parameters, editable_view, ext_values, is_protected
from .treatment import has_treatment_relation

__all__ = ["card_of", "edit_card", "hides_address", "relatives_of"]


async def hides_address(repo: Repository, guard: Guard, patient: Resource) -> bool:
    """Whether the caller must not see this citizen's address (protected, and outside their municipality)."""
    principal = principal_of(guard)
    if not is_protected(patient) or principal is None or principal.admin:
        return False
    if principal.user_type in ("citizen", "proxy"):
        return False  # the gate shows them only their own (or represented) citizens
    if principal.organisation_sor is None:
        return True
    unit = await organisation_for_sor(repo.store, principal.organisation_sor)
    theirs = await municipality_of(repo.store, unit)
    home = ext_values(patient, MUNICIPALITY)
    return theirs is None or not home or theirs != home[0]


async def relatives_of(repo: Repository, patient_id: str) -> list[Resource] | None:
    """The citizen's relatives the caller may see; None when the caller's purpose does not cover them."""
    try:
        await current_guard().allow("search", "RelatedPerson")
    except AccessRefused:
        return None
    found = await search_all(repo, "RelatedPerson", [("patient", f"Patient/{patient_id}")])
    return [s.resource() for s in found if s.resource().get("active", True)]


async def _changes(repo: Repository, patient_id: str) -> list[Resource]:
    """The card's change log, oldest first (Provenances are written only by card edits)."""
    with as_system():
        found = await search_all(repo, "Provenance", [("target", f"Patient/{patient_id}")])
    changes = [s.resource() for s in found if ext_values(s.resource(), CHANGED_FIELD)]
    return sorted(changes, key=lambda p: str(p.get("recorded", "")))


async def card_of(repo: Repository, patient_id: str) -> tuple[Resource, list[dict[str, Any]], bool]:
    """The Patient, the card's parameters, and whether relatives were left out (purpose)."""
    patient = (await repo.read("Patient", patient_id)).resource()
    relatives = await relatives_of(repo, patient_id)
    changes = await _changes(repo, patient_id)
    hide = await hides_address(repo, current_guard(), patient)
    return patient, card_parameters(patient, relatives or [], changes, hide_address=hide), relatives is None


async def _require_editor(repo: Repository, guard: Guard, patient: Resource) -> None:
    principal = principal_of(guard)
    if principal is None or principal.admin or principal.user_type in ("citizen", "proxy"):
        return  # the gate has already refused or hidden anyone else's card from citizens and proxies
    if principal.user_type == "operator":
        raise AccessRefused("Operators do not edit citizens' cards", "not_own_data")
    if principal.purpose != "ESP_STAMKORT":
        raise AccessRefused("Editing the card needs the purpose of use ESP_STAMKORT", "purpose_not_covering")
    assert isinstance(guard, RequestGuard)
    if not await has_treatment_relation(repo, guard, patient):
        raise AccessRefused("Editing the card needs a treatment relation with the citizen", "no_treatment_relation")


def _provenance(
    patient_id: str, version: int, fields: list[str], principal: Principal | None, now: datetime
) -> Resource:
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}
            ]
        },
        "who": {"display": "bindeled"},
    }
    if principal is not None:
        agent["who"] = {"identifier": {"value": principal.user_id}, "display": principal.full_name or principal.user_id}
        agent["role"] = [{"text": principal.role or principal.user_type}]
        if principal.organisation_sor:
            org = {"identifier": {"system": SOR_SYSTEM, "value": principal.organisation_sor}}
            name = {"display": principal.organisation_name} if principal.organisation_name else {}
            agent["onBehalfOf"] = org | name
    return {
        "resourceType": "Provenance",
        "extension": [{"url": CHANGED_FIELD, "valueString": f} for f in fields],
        "target": [{"reference": f"Patient/{patient_id}"}],
        "recorded": now.isoformat(),
        "activity": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE"}]
        },
        "agent": [agent],
        "entity": [{"role": "revision", "what": {"reference": f"Patient/{patient_id}/_history/{version}"}}],
    }


def _relative_key(relative: Resource) -> Any:
    return (relative.get("relationship"), relative.get("name"), relative.get("telecom"))


async def _replace_relatives(repo: Repository, tx: Transaction, patient_id: str, edit: CardEdit) -> bool:
    """Write the edit's relatives (system guard; the caller checked the gate). Whether anything changed."""
    wanted = [relative_resource(patient_id, p) for p in edit.fields["relative"] if p.get("part")]
    existing = await repo.matches(tx, "RelatedPerson", f"patient=Patient/{patient_id}", limit=None)
    current = [s for s in existing if s.resource().get("active", True)]
    if sorted(map(repr, map(_relative_key, wanted))) == sorted(repr(_relative_key(s.resource())) for s in current):
        return False
    for stored in current:
        await repo.delete_in(tx, "RelatedPerson", stored.id)
    for relative in wanted:
        await repo.create_in(tx, "RelatedPerson", relative)
    return True


async def edit_card(repo: Repository, patient_id: str, edit: CardEdit, now: datetime) -> list[str]:
    """Apply an edit; returns the fields that changed (empty: nothing was written)."""
    guard = current_guard()
    repo.check_id(patient_id)

    async def work(tx: Transaction) -> list[str]:
        await guard.allow("update", "Patient")
        if "relative" in edit.fields:
            await guard.allow("update", "RelatedPerson")
        current = await tx.read("Patient", patient_id)
        if current is None:
            raise NotFound(f"Patient/{patient_id} is not known")
        if current.deleted:
            raise Gone(f"Patient/{patient_id} was deleted")
        patient = current.resource()
        await guard.check("update", [patient])
        await _require_editor(repo, guard, patient)
        changed_patient = apply_edit(patient, edit)
        before, after = editable_view(patient), editable_view(changed_patient)
        fields = [name for name in before if before[name] != after[name]]
        with as_system():
            version = current.version_id
            if fields:
                version = (await repo.update_in(tx, "Patient", patient_id, changed_patient)).stored.version_id
            if "relative" in edit.fields and await _replace_relatives(repo, tx, patient_id, edit):
                fields.append("relative")
            fields.sort()
            if fields:
                provenance = _provenance(patient_id, version, fields, principal_of(guard), now)
                await repo.create_in(tx, "Provenance", provenance)
        await guard.finish(200, tx)
        return fields

    return await run_transaction(repo.store, work)
