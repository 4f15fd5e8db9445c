"""APD-DK import and export against the store: SOR look-ups, the citizen's Patient, the write path.

An import resolves the document's SOR codes to the registry's stored Organizations and Locations
(nothing is invented: an unknown code is a 422 naming the element), finds the citizen's Patient by
CPR (or creates it from the document), and writes the Appointment with the repository's own
``create``/``update`` — the same validation, security gate, business rules and audit as a REST
write — in one transaction: a refusal anywhere writes nothing. The Appointment id is the APD
appointment UUID, so importing a changed document (a replacement) stores a new version.

An export reads the Appointment and its citizen through the gate and the parties from the
registry, and writes the document; its id is derived from the appointment id and version, so the
same version always exports as the same document.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from ...errors import Unprocessable
from ...fhir.jsonio import Resource
from ...registry.fhir import location_id, organization_id
from ...store.base import StoredResource, Transaction, run_transaction
from ...store.guard import as_system, current_guard
from ...store.repository import Repository, WriteResult
from ._xml import ApdInvalid
from .mapping import CPR_SYSTEM, SOR_SYSTEM, References, citizen_of, new_patient, party_of, references_of, to_apd
from .mapping import to_appointment as appointment_of
from .model import ApdAppointment, Party
from .reader import read_apd
from .writer import write_apd

__all__ = ["ApdImport", "export_apd", "import_apd"]

_ENCOUNTER = "/ClinicalDocument/component/structuredBody/component/section/entry/encounter"
_WHERE = {
    "performer": f"{_ENCOUNTER}/performer/assignedEntity/id",
    "custodian": "/ClinicalDocument/custodian/assignedCustodian/representedCustodianOrganization/id",
    "location": f"{_ENCOUNTER}/participant/participantRole/id",
}
_DOCUMENT_IDS = uuid.UUID("7d0c3a52-4c55-4b8e-9f5e-6a0f3d1e2b71")
"""Namespace of the exported documents' UUIDs (uuid5 of appointment id and version)."""


@dataclass(frozen=True, slots=True)
class ApdImport:
    """What an import wrote: the Appointment version and whether the citizen's Patient was created."""

    appointment: WriteResult
    patient_created: bool


async def import_apd(repo: Repository, data: bytes, *, legal_basis: str | None = None) -> ApdImport:
    """Import one APD-DK document; ``legal_basis`` is used when the document carries none."""
    apd = read_apd(data)
    if apd.legal_basis is None and legal_basis:
        apd = replace(apd, legal_basis=legal_basis)
    performer = await _registered(repo, "Organization", apd.performer.sor, "performer")
    custodian = await _registered(repo, "Organization", apd.custodian.sor, "custodian")
    location = await _registered(repo, "Location", apd.location.sor, "location") if apd.location else None

    async def attempt(tx: Transaction) -> ApdImport:
        patient, created = await _patient(repo, tx, apd)
        refs = References(patient, performer, custodian, location)
        resource = appointment_of(apd, refs)
        result = await repo.update_in(tx, "Appointment", apd.appointment_id, resource)
        await current_guard().finish(201 if result.created else 200, tx)
        return ApdImport(result, created)

    return await run_transaction(repo.store, attempt)


async def _registered(repo: Repository, resource_type: str, sor: str, role: str) -> str:
    """The stored SOR Organization or Location with this code, as a reference; 422 when unknown."""
    own_id = organization_id(sor) if resource_type == "Organization" else location_id(sor)
    stored = await repo.store.read(resource_type, own_id)
    if stored is not None and not stored.deleted:
        return f"{resource_type}/{stored.id}"
    with as_system():
        _request, result = await repo.search(resource_type, [("identifier", f"{SOR_SYSTEM}|{sor}"), ("_count", "2")])
    if len(result.resources) == 1:
        return f"{resource_type}/{result.resources[0].id}"
    raise ApdInvalid(
        f"The {role}'s SOR code is not in the organisation register ({sor})", _WHERE[role], "unknown_sor_code"
    )


async def _patient(repo: Repository, tx: Transaction, apd: ApdAppointment) -> tuple[str, bool]:
    """The citizen's Patient (found by CPR whatever the caller may see), created when there is none."""
    with as_system():
        found = await repo.matches(tx, "Patient", f"identifier={CPR_SYSTEM}|{apd.citizen.cpr}")
    if len(found) > 1:
        raise ApdInvalid(
            "More than one Patient has the citizen's CPR number",
            "/ClinicalDocument/recordTarget/patientRole/id",
            "ambiguous_patient",
        )
    if found:
        return f"Patient/{found[0].id}", False
    created = await repo.create_in(tx, "Patient", new_patient(apd.citizen))
    return f"Patient/{created.stored.id}", True


async def export_apd(repo: Repository, appointment_id: str) -> bytes:
    """The APD-DK document of the current version of ``Appointment/{appointment_id}``."""
    stored = await repo.read("Appointment", appointment_id)
    appointment = stored.resource()
    refs = references_of(appointment)
    patient_type, patient_id = refs.patient.split("/", 1)
    citizen = citizen_of((await repo.read(patient_type, patient_id)).resource())
    apd = to_apd(
        appointment,
        citizen,
        await _party(repo, refs.performer),
        await _party(repo, refs.custodian),
        await _party(repo, refs.location) if refs.location else None,
    )
    return write_apd(apd, document_id=_document_id(stored), created=stored.last_updated.isoformat())


async def _party(repo: Repository, reference: str) -> Party:
    """A registry Organization or Location as a document party (register data, no personal data)."""
    resource_type, id_ = reference.split("/", 1)
    stored = await repo.store.read(resource_type, id_)
    body: Resource | None = stored.resource() if stored is not None and not stored.deleted else None
    sor = next(
        (i.get("value") for i in (body or {}).get("identifier", ()) if i.get("system") == SOR_SYSTEM),
        None,
    )
    if body is None or not sor:
        raise Unprocessable(
            "The appointment points at an organisation or place without a SOR code", location=("Appointment",)
        )
    return party_of(body, str(sor))


def _document_id(stored: StoredResource) -> str:
    return str(uuid.uuid5(_DOCUMENT_IDS, f"{stored.id}/{stored.version_id}"))
