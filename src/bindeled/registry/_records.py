"""One SOR record element (``InstitutionOwner``, ``HealthInstitution``, ``OrganizationalUnit``) → :class:`SorEntity`.

The element vocabulary is that of the public SOR XML export (namespace
``urn:oio:sundhedsstyrelsen:organisation:1.0.0`` with the OIO ``xkom``/``dkcc`` address parts). Each
group of children is a table from element name to field and reader; anything not in a table is
reported, never dropped silently.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lxml import etree

from ._xml import Ctx, Reader, local_name, read_bool, read_date, read_fields, read_text, report_attributes
from .gln import is_valid_gln
from .model import Address, Contact, EanLocation, Level, SorEntity, Speciality, UnitInformation, Validity

__all__ = ["RECORD_LEVELS", "read_entity", "read_sor_code"]

RECORD_LEVELS = {
    "InstitutionOwner": Level.OWNER,
    "HealthInstitution": Level.INSTITUTION,
    "OrganizationalUnit": Level.UNIT,
}
"""Record element name → its level."""

_TYPE_ELEMENT = {Level.OWNER: "OwnerType", Level.INSTITUTION: "InstitutionType", Level.UNIT: "UnitType"}


def read_sor_code(elem: etree._Element, ctx: Ctx) -> str | None:
    """A SOR code: digits only, at least 11 of them (DK-core ``min-digits-sor``)."""
    text = read_text(elem, ctx)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) >= 11):
        raise ctx.fail("A SOR code is at least 11 digits", elem)
    return text


def _read_validity(elem: etree._Element, ctx: Ctx) -> Validity:
    spec: dict[str, tuple[str, Reader]] = {
        "FromDate": ("from_date", read_date),
        "ToDate": ("to_date", read_date),
        "FirstFromDate": ("first_from_date", read_date),
        "UpdatedAt": ("updated_at", read_date),
    }
    validity = Validity(**read_fields(elem, ctx, spec))
    if validity.to_date and validity.start and validity.to_date < validity.start:
        raise ctx.fail("ToDate lies before the start date", elem)
    return validity


def _read_country(elem: etree._Element, ctx: Ctx) -> str | None:
    scheme = elem.get("scheme")
    if scheme not in (None, "iso3166-alpha2"):
        ctx.notice("unknown-scheme", "Country code scheme is not iso3166-alpha2", elem)
    return read_text(elem, ctx)


_ADDRESS_PARTS: dict[str, tuple[str, Reader]] = {
    "StreetName": ("street_name", read_text),
    "StreetNameForAddressingName": ("street_name_for_addressing", read_text),
    "StreetBuildingIdentifier": ("building", read_text),
    "FloorIdentifier": ("floor", read_text),
    "SuiteIdentifier": ("suite", read_text),
    "Stairway": ("stairway", read_text),
    "MailDeliverySublocationIdentifier": ("mail_delivery_sublocation", read_text),
    "DistrictSubdivisionIdentifier": ("district_subdivision", read_text),
    "PostOfficeBoxIdentifier": ("post_office_box", read_text),
    "PostCodeIdentifier": ("postcode", read_text),
    "DistrictName": ("district_name", read_text),
    "CountryIdentificationCode": ("country", _read_country),
}


def _read_address_postal(elem: etree._Element, ctx: Ctx) -> Address:
    return Address(**read_fields(elem, ctx, _ADDRESS_PARTS))


def _read_address(elem: etree._Element, ctx: Ctx) -> Address | None:
    """``*AddressInformation``: one ``AddressPostal`` inside."""
    return read_fields(elem, ctx, {"AddressPostal": ("address", _read_address_postal)}).get("address")


def _read_contact(elem: etree._Element, ctx: Ctx) -> Contact:
    spec: dict[str, tuple[str, Reader]] = {
        "TelephoneNumberIdentifier": ("phone", read_text),
        "FaxNumberIdentifier": ("fax", read_text),
        "EmailAddressIdentifier": ("email", read_text),
        "Website": ("website", read_text),
    }
    return Contact(**read_fields(elem, ctx, spec))


def _read_ean(elem: etree._Element, ctx: Ctx) -> EanLocation | None:
    """``EanLocationCodeEntity``; a GLN failing its check digit is reported and left out."""
    spec: dict[str, tuple[str, Reader]] = {
        "EanLocationCode": ("gln", read_text),
        "OnlyInternalIndicator": ("only_internal", read_bool),
        "NonActiveIndicator": ("non_active", read_bool),
        "SystemSupplier": ("system_supplier", read_text),
        "SystemType": ("system_type", read_text),
        "CommunicationSupplier": ("communication_supplier", read_text),
        "RegionCode": ("region_code", read_text),
        "EdiAdministrator": ("edi_administrator", read_text),
        "SorNote": ("note", read_text),
        "SorStatus": ("validity", _read_validity),
    }
    fields = read_fields(elem, ctx, spec)
    gln = fields.get("gln")
    if gln is None:
        raise ctx.fail("EanLocationCodeEntity without EanLocationCode", elem)
    if not is_valid_gln(gln):
        ctx.notice(
            "invalid-gln", f"EAN location number {gln} is not a valid GLN (length or check digit); ignored", elem
        )
        return None
    return EanLocation(**fields)


def _read_optional_ean(elem: etree._Element, ctx: Ctx) -> dict[str, Any]:
    spec: dict[str, tuple[str, Reader]] = {
        "EntityInheritedIndicator": ("ean_inherited", read_bool),
        "EanLocationCodeEntity": ("ean", _read_ean),
    }
    return read_fields(elem, ctx, spec)


def _read_geography(elem: etree._Element, ctx: Ctx) -> dict[str, Any]:
    spec: dict[str, tuple[str, Reader]] = {
        "GeographicalParentRelation": ("geographical_relation", read_text),
        "GeographicalParentSorIdentifier": ("geographical_parent", read_sor_code),
    }
    return read_fields(elem, ctx, spec)


def _read_speciality(elem: etree._Element, ctx: Ctx) -> Speciality:
    fields = read_fields(elem, ctx, {"SpecialityCode": ("code", read_text), "SpecialityType": ("type", read_text)})
    if "code" not in fields:
        raise ctx.fail("ClinicalSpeciality without SpecialityCode", elem)
    return Speciality(**fields)


def _read_repeated(elem: etree._Element, ctx: Ctx, child_name: str, reader: Reader) -> tuple[Any, ...]:
    """A collection of one repeated child (``ClinicalSpeciality``, ``SorIdentifier``)."""
    values = []
    for index, child in enumerate(elem, start=1):
        name = local_name(child)
        sub = ctx.child(f"{name}[{index}]")
        if name != child_name:
            sub.notice("unknown-element", f"Unknown element {name} ignored", child)
        elif (value := reader(child, sub)) is not None:
            values.append(value)
    return tuple(values)


def _read_specialities(elem: etree._Element, ctx: Ctx) -> tuple[Speciality, ...]:
    return _read_repeated(elem, ctx, "ClinicalSpeciality", _read_speciality)


def _read_sor_list(elem: etree._Element, ctx: Ctx) -> tuple[str, ...]:
    return _read_repeated(elem, ctx, "SorIdentifier", read_sor_code)


def _read_unit_information(elem: etree._Element, ctx: Ctx) -> UnitInformation:
    spec: dict[str, tuple[str, Reader]] = {
        "AmbulantActivityIndicator": ("ambulant_activity", read_bool),
        "PatientsAdmittedIndicator": ("patients_admitted", read_bool),
        "ReportingLevelIndicator": ("reporting_level", read_bool),
    }
    spec.update({f"LocalAttribute{i}": (f"local{i}", read_text) for i in range(1, 6)})
    fields = read_fields(elem, ctx, spec)
    local = tuple(fields.pop(f"local{i}", "") for i in range(1, 6))
    return UnitInformation(**fields, local_attributes=local if any(local) else ())


_GROUPS: dict[str, tuple[str, Reader]] = {
    "SorIdentifier": ("sor_code", read_sor_code),
    "EntityName": ("name", read_text),
    "ShakIdentifier": ("shak", read_text),
    "ProviderIdentifier": ("ydernummer", read_text),
    "PharmacyIdentifier": ("pharmacy_id", read_text),
    "LocalCode": ("local_code", read_text),
    "MunicipalityCode": ("municipality_code", read_text),
    "RegionCode": ("region_code", read_text),
    "EanLocationCodeEntity": ("ean", _read_ean),
    "OptionalEanLocationCode": ("+optional_ean", _read_optional_ean),
    "GeographicalParent": ("+geography", _read_geography),
    "PostalAddressInformation": ("postal_address", _read_address),
    "VisitingAddressInformation": ("visiting_address", _read_address),
    "ActivityAddressInformation": ("activity_address", _read_address),
    "VirtualAddressInformation": ("contact", _read_contact),
    "ClinicalSpecialityCollection": ("specialities", _read_specialities),
    "OrganizationalUnitInformation": ("unit_information", _read_unit_information),
    "SorStatus": ("validity", _read_validity),
    "ReplacesEntityCollection": ("replaces", _read_sor_list),
    "ReplacedByEntityCollection": ("replaced_by", _read_sor_list),
}
"""Record child → field; a ``+`` field is a group whose reader returns several fields."""


def read_entity(elem: etree._Element, ctx: Ctx, level: Level, parent: str | None) -> SorEntity:
    """Read one record element. ``parent`` is the SOR code of the enclosing record (None for an owner)."""
    spec = dict(_GROUPS)
    spec[_TYPE_ELEMENT[level]] = ("type_code", read_text)
    report_attributes(elem, ctx)
    fields = read_fields(elem, ctx, spec)
    for group in [key for key in fields if key.startswith("+")]:
        merged = fields.pop(group)
        if "ean" in merged and "ean" in fields:
            raise ctx.fail("Two EAN location codes on one entity", elem)
        fields.update(merged)
    sor_code = fields.pop("sor_code", None)
    name = fields.pop("name", None)
    if sor_code is None or name is None:
        missing = "SorIdentifier" if sor_code is None else "EntityName"
        raise ctx.fail(f"{local_name(elem)} without {missing}", elem)
    return replace(SorEntity(sor_code, level, name, parent), **fields)
