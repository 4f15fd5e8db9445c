"""What an APD-DK document says, as typed records between the CDA reader/writer and the FHIR mapping."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APD_CODE",
    "APD_TEMPLATE",
    "APD_VERSION",
    "OWNER_CODES",
    "ApdAppointment",
    "Citizen",
    "Party",
    "PostalAddress",
]

APD_TEMPLATE = "1.2.208.184.14.1"
"""The APD-DK document template (``ClinicalDocument/templateId/@root``)."""
APD_CODE = "39289-4"
"""LOINC: date and time of a meeting between patient and health professional."""
APD_VERSION = "apd-v2.0.1"
"""The profile version the documents carry (``documentationOf/serviceEvent/id/@extension``)."""

OWNER_CODES = {
    "MunicipalityAppointment": "municipal",
    "RegionalAppointment": "regional",
    "PractitionerAppointment": "practice",
}
"""APD owner type codes (code system 1.2.208.184.100.1) → the Appointment's owner type."""


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address as CDA writes it: free lines, postcode, city, country, and its use (``H``, ``WP``)."""

    lines: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    use: str | None = None


@dataclass(frozen=True, slots=True)
class Citizen:
    """The citizen (``recordTarget``): CPR and what a new Patient record starts from."""

    cpr: str
    given: tuple[str, ...] = ()
    family: str | None = None
    gender: str | None = None
    """FHIR administrative gender (``female``, ``male``, ``unknown``)."""
    birth_date: str | None = None
    address: PostalAddress | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation as the document names it: SOR code, name, phone, address (for export)."""

    sor: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: PostalAddress | None = None


@dataclass(frozen=True, slots=True)
class ApdAppointment:
    """One APD-DK appointment document, reduced to what bindeled keeps."""

    appointment_id: str
    owner_type: str
    start: str
    """A FHIR instant."""
    end: str | None
    """A FHIR instant; None: open end (all day, or not yet known)."""
    citizen: Citizen
    performer: Party
    custodian: Party
    reason_text: str
    reason_snomed: str | None = None
    location: Party | None = None
    """The SOR unit where it takes place; None: the citizen's home."""
    room: str | None = None
    """The meeting place's own name (``playingEntity/name``): a room, a floor, "Borgers Hjemmeadresse"."""
    time_is_guide: bool = False
    guide_text: str | None = None
    repetition_id: str | None = None
    legal_basis: str | None = None
    """A code in bindeled's legal-basis system (``SEL-83``), when the document carries one."""
    document_id: str | None = None
    author: Party | None = None
    """The responsible organisation (``author[1]``), informational."""
    created: str | None = None
    """The document's ``effectiveTime`` as a FHIR instant."""
