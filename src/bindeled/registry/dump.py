"""Write SOR entities back out in the SOR XML export format (root ``SorTree``).

Used to turn the synthetic region into an export file the demo and tests can import like a real one,
and to prove the importer by round trip: ``load_export(dump_export(x)).entities == x.entities``. The
output is written incrementally (one owner's subtree at a time), so a large tree never needs a second
in-memory copy.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

from lxml import etree

from .load import SOR_NAMESPACE
from .model import Address, Contact, EanLocation, Level, SorEntity, SorExport, UnitInformation, Validity
from .tree import SorTree

__all__ = ["dump_export", "write_export"]

_XKOM = "http://rep.oio.dk/xkom.dk/xml/schemas/2006/01/06/"
_DKCC = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/"
_DKCC2005 = "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/"
_NSMAP = {None: SOR_NAMESPACE, "xkom-1": _XKOM, "dkcc": _DKCC, "dkcc2005": _DKCC2005}
_WRAPPER = {Level.OWNER: "InstitutionOwnerEntity", Level.INSTITUTION: "HealthInstitutionEntity"}
_RECORD = {Level.OWNER: "InstitutionOwner", Level.INSTITUTION: "HealthInstitution", Level.UNIT: "OrganizationalUnit"}
_TYPE = {Level.OWNER: "OwnerType", Level.INSTITUTION: "InstitutionType", Level.UNIT: "UnitType"}
_ADDRESS_PARTS = (
    (_DKCC2005, "MailDeliverySublocationIdentifier", "mail_delivery_sublocation"),
    (_DKCC2005, "StreetName", "street_name"),
    (_DKCC2005, "StreetNameForAddressingName", "street_name_for_addressing"),
    (_DKCC, "StreetBuildingIdentifier", "building"),
    (_DKCC, "FloorIdentifier", "floor"),
    (_DKCC, "SuiteIdentifier", "suite"),
    (_DKCC, "Stairway", "stairway"),
    (_DKCC2005, "DistrictSubdivisionIdentifier", "district_subdivision"),
    (_DKCC, "PostOfficeBoxIdentifier", "post_office_box"),
    (_DKCC2005, "PostCodeIdentifier", "postcode"),
    (_DKCC2005, "DistrictName", "district_name"),
)


def _q(name: str, ns: str = SOR_NAMESPACE) -> str:
    return f"{{{ns}}}{name}"


def _leaf(parent: etree._Element, name: str, value: Any, ns: str = SOR_NAMESPACE) -> None:
    if value is None:
        return
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    etree.SubElement(parent, _q(name, ns)).text = text


def _validity(parent: etree._Element, validity: Validity) -> None:
    if validity == Validity():
        return
    status = etree.SubElement(parent, _q("SorStatus"))
    _leaf(status, "FromDate", validity.from_date)
    _leaf(status, "ToDate", validity.to_date)
    _leaf(status, "UpdatedAt", validity.updated_at)
    _leaf(status, "FirstFromDate", validity.first_from_date)


def _address(parent: etree._Element, name: str, address: Address | None) -> None:
    if address is None:
        return
    postal = etree.SubElement(etree.SubElement(parent, _q(name)), _q("AddressPostal", _XKOM))
    for ns, element, field in _ADDRESS_PARTS:
        _leaf(postal, element, getattr(address, field), ns)
    if address.country is not None:
        country = etree.SubElement(postal, _q("CountryIdentificationCode", _DKCC), scheme="iso3166-alpha2")
        country.text = address.country


def _contact(parent: etree._Element, contact: Contact) -> None:
    if contact == Contact():
        return
    virtual = etree.SubElement(parent, _q("VirtualAddressInformation"))
    _leaf(virtual, "EmailAddressIdentifier", contact.email, _XKOM)
    _leaf(virtual, "Website", contact.website)
    _leaf(virtual, "TelephoneNumberIdentifier", contact.phone)
    _leaf(virtual, "FaxNumberIdentifier", contact.fax)


def _ean(parent: etree._Element, ean: EanLocation | None) -> None:
    if ean is None:
        return
    entity = etree.SubElement(parent, _q("EanLocationCodeEntity"))
    for name, value in (
        ("EanLocationCode", ean.gln),
        ("OnlyInternalIndicator", ean.only_internal),
        ("NonActiveIndicator", ean.non_active),
        ("SystemSupplier", ean.system_supplier),
        ("SystemType", ean.system_type),
        ("CommunicationSupplier", ean.communication_supplier),
        ("RegionCode", ean.region_code),
        ("EdiAdministrator", ean.edi_administrator),
        ("SorNote", ean.note),
    ):
        _leaf(entity, name, value)
    _validity(entity, ean.validity)


def _unit_information(parent: etree._Element, info: UnitInformation | None) -> None:
    if info is None:
        return
    element = etree.SubElement(parent, _q("OrganizationalUnitInformation"))
    _leaf(element, "AmbulantActivityIndicator", info.ambulant_activity)
    _leaf(element, "PatientsAdmittedIndicator", info.patients_admitted)
    _leaf(element, "ReportingLevelIndicator", info.reporting_level)
    for index, value in enumerate(info.local_attributes, start=1):
        _leaf(element, f"LocalAttribute{index}", value or None)


def _codes(parent: etree._Element, name: str, codes: tuple[str, ...]) -> None:
    if codes:
        collection = etree.SubElement(parent, _q(name))
        for code in codes:
            _leaf(collection, "SorIdentifier", code)


def _record(entity: SorEntity) -> etree._Element:
    record = etree.Element(_q(_RECORD[entity.level]), nsmap=_NSMAP)
    for name, value in (
        ("SorIdentifier", entity.sor_code),
        ("EntityName", entity.name),
        (_TYPE[entity.level], entity.type_code),
        ("ShakIdentifier", entity.shak),
        ("ProviderIdentifier", entity.ydernummer),
        ("PharmacyIdentifier", entity.pharmacy_id),
        ("LocalCode", entity.local_code),
        ("MunicipalityCode", entity.municipality_code),
        ("RegionCode", entity.region_code),
    ):
        _leaf(record, name, value)
    _ean(record, entity.ean)
    if entity.ean_inherited is not None:
        _leaf(etree.SubElement(record, _q("OptionalEanLocationCode")), "EntityInheritedIndicator", entity.ean_inherited)
    _address(record, "PostalAddressInformation", entity.postal_address)
    _address(record, "VisitingAddressInformation", entity.visiting_address)
    _address(record, "ActivityAddressInformation", entity.activity_address)
    _contact(record, entity.contact)
    if entity.geographical_relation is not None or entity.geographical_parent is not None:
        geography = etree.SubElement(record, _q("GeographicalParent"))
        _leaf(geography, "GeographicalParentRelation", entity.geographical_relation)
        _leaf(geography, "GeographicalParentSorIdentifier", entity.geographical_parent)
    if entity.specialities:
        collection = etree.SubElement(record, _q("ClinicalSpecialityCollection"))
        for speciality in entity.specialities:
            element = etree.SubElement(collection, _q("ClinicalSpeciality"))
            _leaf(element, "SpecialityCode", speciality.code)
            _leaf(element, "SpecialityType", speciality.type)
    _validity(record, entity.validity)
    _codes(record, "ReplacesEntityCollection", entity.replaces)
    _codes(record, "ReplacedByEntityCollection", entity.replaced_by)
    _unit_information(record, entity.unit_information)
    return record


def _subtree(tree: SorTree, entity: SorEntity) -> etree._Element:
    wrapper = etree.Element(_q(_WRAPPER.get(entity.level, "OrganizationalUnitEntity")), nsmap=_NSMAP)
    wrapper.append(_record(entity))
    for child in tree.children(entity.sor_code):
        wrapper.append(_subtree(tree, child))
    return wrapper


def _header(created: datetime | None, snapshot: date | None) -> Iterator[etree._Element]:
    for name, value in (("CreatedAtTime", created.isoformat() if created else None), ("SnapshotDate", snapshot)):
        if value is not None:
            element = etree.Element(_q(name), nsmap=_NSMAP)
            element.text = str(value)
            yield element


def write_export(export: SorExport, out: IO[bytes]) -> None:
    """Write ``export`` as a SOR XML document to a binary stream."""
    tree = SorTree(export.entities, snapshot_date=export.snapshot_date)
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(_q("SorTree"), nsmap=_NSMAP):
            for element in _header(export.created_at, export.snapshot_date):
                xf.write(element)
            for owner in tree.roots():
                xf.write(_subtree(tree, owner))


def dump_export(export: SorExport) -> bytes:
    """``export`` as SOR XML bytes."""
    buffer = io.BytesIO()
    write_export(export, buffer)
    return buffer.getvalue()
