"""Typed records for the SOR tree (Sundhedsvæsenets Organisationsregister).

SOR nests three kinds of entity: an institution owner (region, municipality, state, private owner) owns
health institutions (hospital, practice, pharmacy …), which hold organisational units nested to any
depth. All three share one record, :class:`SorEntity`, told apart by :attr:`SorEntity.level`: the
fields differ little, and one shape keeps the tree, the lookups and the diff free of per-level cases.

Each record holds what the export says about the entity *itself*. Values a unit inherits from its
ancestors (address, phone, EAN …) are resolved by :mod:`bindeled.registry.tree`, which keeps "own"
apart from "inherited" so callers can tell which is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "Address",
    "Contact",
    "EanLocation",
    "Level",
    "LoadIssue",
    "SorEntity",
    "SorExport",
    "Speciality",
    "UnitInformation",
    "Validity",
]


class Level(StrEnum):
    """Where an entity sits in the SOR hierarchy."""

    OWNER = "owner"
    """Institutionsejer: the root of a tree."""
    INSTITUTION = "institution"
    """Sundhedsinstitution: always directly under an owner."""
    UNIT = "unit"
    """Organisatorisk enhed: under an institution or another unit, to any depth."""


@dataclass(frozen=True, slots=True)
class Validity:
    """An entity's ``SorStatus``: when it is valid, and when the register last changed it."""

    from_date: date | None = None
    """When the latest change took effect (``FromDate``) – not when the entity began."""
    to_date: date | None = None
    """The last day the entity is valid (``ToDate``, inclusive); None while it is open."""
    first_from_date: date | None = None
    """When the entity first became valid (``FirstFromDate``)."""
    updated_at: date | None = None
    """When the register last changed the entity (``UpdatedAt``)."""

    @property
    def start(self) -> date | None:
        """The first day the entity exists: ``FirstFromDate``, else ``FromDate``."""
        return self.first_from_date or self.from_date

    def is_active(self, on: date) -> bool:
        """Whether the entity exists on ``on``: started, and not past its end date."""
        start = self.start
        return (start is None or start <= on) and not self.has_ended(on)

    def has_ended(self, on: date) -> bool:
        """Whether ``on`` lies after the entity's last valid day."""
        return self.to_date is not None and self.to_date < on


@dataclass(frozen=True, slots=True)
class Address:
    """A Danish postal address in the OIO ``AddressPostal`` shape (all parts optional)."""

    street_name: str | None = None
    street_name_for_addressing: str | None = None
    building: str | None = None
    """House number with letter (``StreetBuildingIdentifier``)."""
    floor: str | None = None
    suite: str | None = None
    stairway: str | None = None
    mail_delivery_sublocation: str | None = None
    """A named place line (``MailDeliverySublocationIdentifier``), e.g. a hospital building."""
    district_subdivision: str | None = None
    post_office_box: str | None = None
    postcode: str | None = None
    district_name: str | None = None
    """The post town (``DistrictName``)."""
    country: str | None = None
    """ISO 3166 alpha-2 (``CountryIdentificationCode``)."""

    def lines(self) -> tuple[str, ...]:
        """Address lines as a letter would print them (street line, then place line)."""
        street = " ".join(p for p in (self.street_name, self.building) if p)
        extra = ", ".join(p for p in (self.floor, self.suite) if p)
        first = f"{street}, {extra}" if street and extra else street or extra
        return tuple(p for p in (self.mail_delivery_sublocation, first, self.district_subdivision) if p)


@dataclass(frozen=True, slots=True)
class Contact:
    """Virtual address information: each part is inherited separately when missing."""

    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True, slots=True)
class EanLocation:
    """An EAN location number (GLN): the mailbox MedCom messages are addressed to."""

    gln: str
    """13 digits with a valid GS1 check digit (checked on import)."""
    only_internal: bool | None = None
    non_active: bool | None = None
    """Registered but not receiving messages (``NonActiveIndicator``)."""
    system_supplier: str | None = None
    system_type: str | None = None
    communication_supplier: str | None = None
    region_code: str | None = None
    edi_administrator: str | None = None
    note: str | None = None
    validity: Validity = Validity()

    def is_receiving(self, on: date) -> bool:
        """Whether messages can be delivered to this location on ``on``."""
        return not self.non_active and self.validity.is_active(on)


@dataclass(frozen=True, slots=True)
class Speciality:
    """A clinical speciality (SNOMED CT code and the type of speciality)."""

    code: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class UnitInformation:
    """``OrganizationalUnitInformation``: what kind of activity a unit reports."""

    ambulant_activity: bool | None = None
    patients_admitted: bool | None = None
    reporting_level: bool | None = None
    local_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SorEntity:
    """One owner, institution or unit, as the export states it (nothing inherited)."""

    sor_code: str
    level: Level
    name: str
    parent: str | None = None
    """The SOR code of the organisational parent; None for an owner."""
    type_code: str | None = None
    """SNOMED CT (Danish extension) type: ``OwnerType``, ``InstitutionType`` or ``UnitType``."""
    shak: str | None = None
    """SHAK code: 4 characters for a hospital, 6 for a department, 7 for a section."""
    ydernummer: str | None = None
    """Provider number (``ProviderIdentifier``); several units may share one."""
    pharmacy_id: str | None = None
    local_code: str | None = None
    municipality_code: str | None = None
    region_code: str | None = None
    ean: EanLocation | None = None
    """The entity's own EAN location; inherited ones are resolved by the tree."""
    ean_inherited: bool | None = None
    """``OptionalEanLocationCode/EntityInheritedIndicator`` as exported (informative)."""
    postal_address: Address | None = None
    visiting_address: Address | None = None
    activity_address: Address | None = None
    contact: Contact = Contact()
    geographical_relation: str | None = None
    """1 own site, 2 the organisational parent's, 3 another entity's, 4 none, 5 unknown."""
    geographical_parent: str | None = None
    specialities: tuple[Speciality, ...] = ()
    unit_information: UnitInformation | None = None
    validity: Validity = Validity()
    replaces: tuple[str, ...] = ()
    replaced_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoadIssue:
    """Something the importer noticed but did not fail on (an unknown element, a rejected EAN)."""

    path: str
    """Element path in the export, e.g. ``/SorTree/InstitutionOwnerEntity[2]/…``."""
    line: int | None
    message: str
    code: str
    """Stable machine code: ``unknown-element``, ``invalid-gln``, ``ignored-attribute`` …"""


@dataclass(frozen=True, slots=True)
class SorExport:
    """One imported SOR export: header, every entity in document order, and what was noticed."""

    created_at: datetime | None
    snapshot_date: date | None
    entities: tuple[SorEntity, ...]
    issues: tuple[LoadIssue, ...] = ()
    synthetic: bool = False
    """True for generated demo data: resources made from it are tagged SYNTHETIC."""
