"""The Aftaleoversigt's rules on every Appointment write (DOMAIN 4.7–4.10), run inside the write.

An *overview appointment* carries the owner-type extension (:mod:`.appointment_model`). Its writes
must give the citizen, start, owner type, performer and custodian, a reason and a place (a Location
or the citizen's home) — else 422 ``appointment_field_missing``; performer and custodian must be
Organizations registered in SOR (422 ``appointment_unit_not_sor``). A municipal one needs a
legal basis from the configured allow-list (422 ``legal_basis_missing`` / ``legal_basis_not_allowed``).
A meeting at a SOR-registered place needs a phone number: the appointment's own, else the place's
(or the performer's) phone from SOR, which the rule then writes onto the appointment; none → 422
``appointment_phone_missing``. The rule also adds the performing unit as an information-only
participant named by its SOR identifier (``type`` PPRF), which is where the security gate looks for
whose data an Appointment is (organisation blocks). Only users of the performer's or custodian's SOR subtree may create,
change, cancel or delete one (403 ``not_appointment_owner``). Cancelled and entered-in-error versions
are not checked for phone or legal basis: a cancellation must always go through.

Appointments without the extension are plain FHIR appointments outside the overview; only trusted
jobs and administrators may write them (others get 422), so the rules cannot be dodged.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Unprocessable
from ..fhir.jsonio import Resource
from ..security.facts import SOR_SYSTEM
from ..store.repository import PendingWrite
from .appointment_model import (
    AT_HOME,
    CONTACT_PHONE,
    CUSTODIAN,
    LEGAL_BASIS,
    LEGAL_BASIS_SYSTEM,
    OWNER_TYPE,
    OWNER_TYPES,
    PERFORMER,
)
from .principals import is_trusted, require_within
from .sor_units import UnitReader, phone_of, read_reference, sor_code

__all__ = ["DEFAULT_LEGAL_BASES", "AppointmentRules", "extension_value", "is_overview_appointment"]

DEFAULT_LEGAL_BASES = ("SEL-79a", "SEL-83", "SEL-83a", "SEL-84", "SEL-86")
"""Serviceloven §79a, §83, §83a, §84 and §86: the default allow-list for municipal appointments."""

_UNCHECKED_STATUSES = frozenset({"cancelled", "entered-in-error"})


def extension_value(resource: Resource, url: str) -> Any:
    """The ``value[x]`` of a resource's first extension with ``url`` (None when absent)."""
    for ext in resource.get("extension", ()):
        if isinstance(ext, dict) and ext.get("url") == url:
            return next((v for k, v in ext.items() if k.startswith("value")), None)
    return None


def is_overview_appointment(resource: Resource | None) -> bool:
    return resource is not None and extension_value(resource, OWNER_TYPE) is not None


def _missing(what: str, location: str) -> Unprocessable:
    return Unprocessable(
        f"An overview appointment needs {what}", details_code="appointment_field_missing", location=(location,)
    )


def _actors(resource: Resource, type_: str) -> list[dict[str, Any]]:
    found = []
    for participant in resource.get("participant", ()):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if isinstance(actor, dict) and str(actor.get("reference", "")).startswith(f"{type_}/"):
            found.append(actor)
    return found


@dataclass(frozen=True)
class AppointmentRules:
    """The rule object registered with the repository (see :func:`.rules.overview_write_rules`)."""

    reader: UnitReader
    legal_bases: Sequence[str] = DEFAULT_LEGAL_BASES

    async def __call__(self, write: PendingWrite) -> Resource | None:
        if write.resource_type != "Appointment":
            return None
        if write.before is not None and is_overview_appointment(write.before):
            await self._require_owner(write, write.before)
        after = write.after
        if after is None:
            return None
        if not is_overview_appointment(after):
            if is_trusted(write.guard):
                return None
            raise Unprocessable(
                "Appointments must carry an owner type (municipal, regional or practice)",
                details_code="appointment_field_missing",
                location=("Appointment.extension",),
            )
        self._require_fields(after)
        await self._require_owner(write, after)
        if after.get("status") in _UNCHECKED_STATUSES:
            return None
        self._require_legal_basis(after)
        return await self._completed(after)

    async def _require_owner(self, write: PendingWrite, resource: Resource) -> None:
        if is_trusted(write.guard):
            return
        owners = []
        for url in (PERFORMER, CUSTODIAN):
            owners.append(sor_code(await read_reference(self.reader, extension_value(resource, url), "Organization")))
        require_within(write.guard, tuple(owners), "this appointment", "not_appointment_owner")

    def _require_fields(self, resource: Resource) -> None:
        if extension_value(resource, OWNER_TYPE) not in OWNER_TYPES:
            raise Unprocessable(
                "The owner type must be municipal, regional or practice",
                details_code="appointment_owner_type_unknown",
                location=("Appointment.extension",),
            )
        if not _actors(resource, "Patient"):
            raise _missing("the citizen as a participant", "Appointment.participant")
        if not resource.get("start"):
            raise _missing("a start time", "Appointment.start")
        for url, name in ((PERFORMER, "performer"), (CUSTODIAN, "custodian")):
            if not isinstance(extension_value(resource, url), dict):
                raise _missing(f"a {name} organisation", "Appointment.extension")
        if not resource.get("reasonCode"):
            raise _missing("a reason", "Appointment.reasonCode")
        if extension_value(resource, AT_HOME) is not True and not _actors(resource, "Location"):
            raise _missing("a place (a Location or the citizen's home)", "Appointment.participant")

    def _require_legal_basis(self, resource: Resource) -> None:
        if extension_value(resource, OWNER_TYPE) != "municipal":
            return
        basis = extension_value(resource, LEGAL_BASIS)
        if not isinstance(basis, dict) or not basis.get("code"):
            raise Unprocessable(
                "A municipal appointment must give its legal basis",
                details_code="legal_basis_missing",
                location=("Appointment.extension",),
            )
        if basis.get("system") != LEGAL_BASIS_SYSTEM or basis["code"] not in self.legal_bases:
            raise Unprocessable(
                "The legal basis is not on the list allowed for municipal appointments",
                details_code="legal_basis_not_allowed",
                location=("Appointment.extension",),
            )

    async def _completed(self, resource: Resource) -> Resource | None:
        """The appointment with SOR's phone and a performer participant added where missing (None: unchanged)."""
        performer = await read_reference(self.reader, extension_value(resource, PERFORMER), "Organization")
        custodian = await read_reference(self.reader, extension_value(resource, CUSTODIAN), "Organization")
        if sor_code(performer) is None or sor_code(custodian) is None:
            raise Unprocessable(
                "The performer and the custodian must be organisations registered in SOR",
                details_code="appointment_unit_not_sor",
                location=("Appointment.extension",),
            )
        changed = copy.deepcopy(resource)
        phone = await self._needed_phone(resource, performer)
        if phone is not None:
            point = {"system": "phone", "value": phone, "use": "work"}
            changed.setdefault("extension", []).append({"url": CONTACT_PHONE, "valueContactPoint": point})
        code = sor_code(performer)
        if performer is not None and code is not None and not _names_unit(resource, code):
            actor = {"identifier": {"system": SOR_SYSTEM, "value": code}, "display": str(performer.get("name", code))}
            changed["participant"] = [*changed.get("participant", ()), _performer_participant(actor)]
        return changed if changed != resource else None

    async def _needed_phone(self, resource: Resource, performer: Resource | None) -> str | None:
        """SOR's phone when the appointment needs one and has none; 422 when SOR has none either."""
        if extension_value(resource, AT_HOME) is True:
            return None
        given = extension_value(resource, CONTACT_PHONE)
        if isinstance(given, dict) and given.get("value"):
            return None
        place = await read_reference(self.reader, _actors(resource, "Location")[0], "Location")
        if sor_code(place) is None:
            return None  # a place outside SOR: no phone rule
        phone = phone_of(place) or phone_of(performer)
        if phone is None:
            raise Unprocessable(
                "An appointment at a SOR-registered place needs a phone number, and SOR has none for it",
                details_code="appointment_phone_missing",
                location=("Appointment.extension",),
            )
        return phone


def _names_unit(resource: Resource, code: str) -> bool:
    """Whether a participant already names the SOR unit by identifier."""
    for participant in resource.get("participant", ()):
        identifier = (participant.get("actor") or {}).get("identifier") or {}
        if identifier.get("system") == SOR_SYSTEM and identifier.get("value") == code:
            return True
    return False


def _performer_participant(actor: dict[str, Any]) -> dict[str, Any]:
    """The performing unit as an information-only participant, so the gate sees whose data it is (blocks)."""
    kind = {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PPRF"}
    return {"type": [{"coding": [kind]}], "actor": actor, "required": "information-only", "status": "accepted"}
