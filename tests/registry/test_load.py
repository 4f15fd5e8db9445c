"""Importing the SOR XML export: the public samples, and malformed or unexpected input."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bindeled.registry import Level, LoadIssue, SorExport, SorFormatError, iter_entities, load_export
from bindeled.registry.load import SorHeader
from bindeled.registry.model import Address, Contact, Validity

NS = (
    'xmlns="urn:oio:sundhedsstyrelsen:organisation:1.0.0" '
    'xmlns:xkom-1="http://rep.oio.dk/xkom.dk/xml/schemas/2006/01/06/" '
    'xmlns:dkcc="http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/" '
    'xmlns:dkcc2005="http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/"'
)


def export(body: str, header: str = "<SnapshotDate>2026-01-01</SnapshotDate>") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><SorTree {NS}>{header}{body}</SorTree>'.encode()


def owner(code: str = "11111000016001", inner: str = "", extra: str = "") -> str:
    return (
        f"<InstitutionOwnerEntity><InstitutionOwner><SorIdentifier>{code}</SorIdentifier>"
        f"<EntityName>Ejer</EntityName>{extra}</InstitutionOwner>{inner}</InstitutionOwnerEntity>"
    )


def test_all_samples_import(sor_dir: Path) -> None:
    samples = sorted(sor_dir.glob("*.xml"))
    assert [p.name for p in samples] == ["ONE_APOTEK.xml", "ONE_PRAKSIS.xml", "ONE_SYGEHUS.xml"]
    for path in samples:
        result = load_export(path)
        assert result.issues == ()
        assert result.snapshot_date == date(2010, 1, 26)
        assert result.created_at == datetime(2010, 1, 26, tzinfo=timezone(timedelta(hours=1)))


def test_sygehus_sample(sygehus: SorExport) -> None:
    assert [(e.level, e.sor_code, e.parent) for e in sygehus.entities] == [
        (Level.OWNER, "347801000016001", None),
        (Level.INSTITUTION, "347811000016004", "347801000016001"),
        (Level.UNIT, "347821000016008", "347811000016004"),
        (Level.UNIT, "347831000016005", "347821000016008"),
    ]
    owner_, hospital, department, section = sygehus.entities
    assert owner_.type_code == "550891000005100"
    assert owner_.postal_address == Address(
        street_name="Hestetorvet", building="8", postcode="4000", district_name="Roskilde", country="DK"
    )
    assert owner_.contact == Contact(
        phone="46361266", email="J.Thulesen@dadlnet.dk", website="www.roskildeojenklinik.dk"
    )
    assert hospital.type_code == "22232009"
    assert (hospital.shak, department.shak, section.shak) == ("2529", "252901", "2529010")
    assert hospital.ean is None and hospital.ean_inherited is False
    assert department.validity == Validity(date(2009, 10, 7), None, date(2009, 10, 7), date(2009, 10, 1))
    assert section.type_code == "550851000005109"
    assert [(s.code, s.type) for s in section.specialities] == [("394594003", "51000095001")]
    assert section.unit_information is not None and section.unit_information.patients_admitted is True
    assert department.unit_information is not None and department.unit_information.ambulant_activity is False
    assert section.geographical_relation == "2"


def test_praksis_sample(praksis: SorExport) -> None:
    owner_, practice, unit = praksis.entities
    assert owner_.ean is not None
    assert owner_.ean.gln == "5790000141227"
    assert owner_.ean.system_supplier == "641000055002"
    assert owner_.ean.region_code == "1084"
    assert owner_.ean.validity.first_from_date == date(1999, 3, 25)
    assert owner_.contact.fax == "48300109"
    assert practice.name == "Michael Filtenborg & co"
    assert practice.type_code == "394761003"
    assert unit.ydernummer == "019062"
    assert unit.ean is None and unit.ean_inherited is True


def test_apotek_sample(apotek: SorExport) -> None:
    owner_, pharmacy, unit = apotek.entities
    assert owner_.ean is not None and owner_.ean.gln == "5790000173624"
    assert owner_.postal_address is not None and owner_.postal_address.district_name == "Værløse"
    assert pharmacy.type_code == "264372000"
    assert unit.pharmacy_id == "362,1"
    assert unit.validity.start == date(1995, 2, 20)


def test_streaming_yields_parents_first_and_fills_header(sor_dir: Path) -> None:
    header = SorHeader()
    with (sor_dir / "ONE_SYGEHUS.xml").open("rb") as stream:
        codes = [e.sor_code for e in iter_entities(stream, header)]
    assert len(codes) == 4
    assert header.snapshot_date == date(2010, 1, 26)


def test_all_fields_of_a_rich_unit() -> None:
    unit = (
        "<OrganizationalUnitEntity><OrganizationalUnit><SorIdentifier>33333000016003</SorIdentifier>"
        "<EntityName>Afsnit</EntityName><UnitType>550851000005109</UnitType><LocalCode>L1</LocalCode>"
        "<EanLocationCodeEntity><EanLocationCode>5790000141227</EanLocationCode><NonActiveIndicator>true"
        "</NonActiveIndicator><SorNote>note</SorNote><SorStatus><FromDate>2020-01-01</FromDate>"
        "<ToDate>2030-12-31</ToDate></SorStatus></EanLocationCodeEntity>"
        "<VisitingAddressInformation><xkom-1:AddressPostal><dkcc2005:StreetName>Vej</dkcc2005:StreetName>"
        "<dkcc:FloorIdentifier>2</dkcc:FloorIdentifier><dkcc2005:MailDeliverySublocationIdentifier>Bygning 7"
        "</dkcc2005:MailDeliverySublocationIdentifier></xkom-1:AddressPostal></VisitingAddressInformation>"
        "<GeographicalParent><GeographicalParentRelation>3</GeographicalParentRelation>"
        "<GeographicalParentSorIdentifier>11111000016001</GeographicalParentSorIdentifier></GeographicalParent>"
        "<SorStatus><FromDate>2021-05-01+02:00</FromDate><ToDate>2025-06-30</ToDate>"
        "<FirstFromDate>2001-01-01</FirstFromDate></SorStatus>"
        "<ReplacesEntityCollection><SorIdentifier>44444000016004</SorIdentifier>"
        "<SorIdentifier>55555000016005</SorIdentifier></ReplacesEntityCollection>"
        "<OrganizationalUnitInformation><LocalAttribute2>x</LocalAttribute2></OrganizationalUnitInformation>"
        "</OrganizationalUnit></OrganizationalUnitEntity>"
    )
    hospital = (
        "<HealthInstitutionEntity><HealthInstitution><SorIdentifier>22222000016002</SorIdentifier>"
        f"<EntityName>Sygehus</EntityName></HealthInstitution>{unit}</HealthInstitutionEntity>"
    )
    result = load_export(export(owner(inner=hospital)))
    entity = result.entities[2]
    assert result.issues == ()
    assert entity.local_code == "L1"
    assert entity.ean is not None and entity.ean.non_active is True and entity.ean.note == "note"
    assert entity.ean.validity.to_date == date(2030, 12, 31)
    assert entity.visiting_address is not None
    assert entity.visiting_address.lines() == ("Bygning 7", "Vej, 2")
    assert (entity.geographical_relation, entity.geographical_parent) == ("3", "11111000016001")
    assert entity.validity == Validity(date(2021, 5, 1), date(2025, 6, 30), date(2001, 1, 1))
    assert entity.replaces == ("44444000016004", "55555000016005")
    assert entity.unit_information is not None
    assert entity.unit_information.local_attributes == ("", "x", "", "", "")


def test_unknown_elements_are_reported_not_dropped_silently() -> None:
    body = owner(extra="<Colour>blue</Colour><VirtualAddressInformation><Pager>1</Pager></VirtualAddressInformation>")
    result = load_export(export(body + "<Trailer/>"))
    assert [(i.code, i.path) for i in result.issues] == [
        ("unknown-element", "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/Colour"),
        ("unknown-element", "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/VirtualAddressInformation/Pager"),
        ("unknown-element", "/SorTree/Trailer"),
    ]
    assert all(i.line == 1 for i in result.issues)


def test_invalid_gln_is_reported_and_left_out() -> None:
    ean = "<EanLocationCodeEntity><EanLocationCode>5790000141228</EanLocationCode></EanLocationCodeEntity>"
    seen: list[LoadIssue] = []
    result = load_export(export(owner(extra=ean)), on_issue=seen.append)
    assert result.entities[0].ean is None
    assert [i.code for i in result.issues] == ["invalid-gln"]
    assert seen == list(result.issues)
    assert result.issues[0].path.endswith("/InstitutionOwner/EanLocationCodeEntity")


def test_country_scheme_other_than_iso_is_reported() -> None:
    address = (
        "<PostalAddressInformation><xkom-1:AddressPostal><dkcc:CountryIdentificationCode scheme='imk'>5100"
        "</dkcc:CountryIdentificationCode></xkom-1:AddressPostal></PostalAddressInformation>"
    )
    result = load_export(export(owner(extra=address)))
    assert result.entities[0].postal_address == Address(country="5100")
    assert [i.code for i in result.issues] == ["unknown-scheme"]


@pytest.mark.parametrize(
    ("document", "message", "path"),
    [
        (b"<SorTree xmlns='urn:oio:sundhedsstyrelsen:organisation:1.0.0'><", "Malformed XML", "/SorTree"),
        (b"", "Malformed XML", "/"),
        (
            export(owner()).replace(b"</InstitutionOwner>", b""),
            "Malformed XML",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner",
        ),
        (b"<Other/>", "root element Other is not SorTree", "/"),
        (b"<SorTree/>", "root element SorTree is not in the SOR namespace", "/"),
        (
            export(owner(code="123")),
            "at least 11 digits",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/SorIdentifier",
        ),
        (
            export(owner(extra="<SorStatus><FromDate>26-01-2010</FromDate></SorStatus>")),
            "Not a date",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/SorStatus/FromDate",
        ),
        (
            export(owner(extra="<SorStatus><FromDate>2010-01-26T00:00</FromDate></SorStatus>")),
            "Not a date",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/SorStatus/FromDate",
        ),
        (
            export(owner(extra="<SorStatus><FromDate>2010-01-26</FromDate><ToDate>2009-01-01</ToDate></SorStatus>")),
            "ToDate lies before",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/SorStatus",
        ),
        (
            export(
                owner(
                    extra="<OrganizationalUnitInformation><PatientsAdmittedIndicator>ja"
                    "</PatientsAdmittedIndicator></OrganizationalUnitInformation>"
                )
            ),
            "Not a boolean",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/OrganizationalUnitInformation/PatientsAdmittedIndicator",
        ),
        (
            export(owner(extra="<EntityName>Igen</EntityName>")),
            "may appear only once",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/EntityName",
        ),
        (
            export(
                "<InstitutionOwnerEntity><InstitutionOwner><EntityName>x</EntityName></InstitutionOwner></InstitutionOwnerEntity>"
            ),
            "without SorIdentifier",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner",
        ),
        (
            export("<InstitutionOwnerEntity/>"),
            "without its InstitutionOwner record",
            "/SorTree/InstitutionOwnerEntity[1]",
        ),
        (
            export(owner(extra="<SorIdentifier>11111000016001</SorIdentifier>")),
            "may appear only once",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/SorIdentifier",
        ),
        (
            export(owner(inner="<OrganizationalUnitEntity/>")),
            "misplaced inside InstitutionOwnerEntity",
            "/SorTree/InstitutionOwnerEntity[1]/OrganizationalUnitEntity[1]",
        ),
        (
            export("<InstitutionOwnerEntity><HealthInstitutionEntity/></InstitutionOwnerEntity>"),
            "before its parent's record",
            "/SorTree/InstitutionOwnerEntity[1]/HealthInstitutionEntity[1]",
        ),
        (
            export(owner() + owner()),
            "appears twice",
            "/SorTree",
        ),
        (
            export(
                owner(
                    extra="<EntityName><b>x</b></EntityName>".replace("<EntityName>", "<LocalCode>", 1).replace(
                        "</EntityName>", "</LocalCode>"
                    )
                )
            ),
            "found child elements",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/LocalCode",
        ),
        (
            export(owner(extra="<EanLocationCodeEntity><SorNote>x</SorNote></EanLocationCodeEntity>")),
            "without EanLocationCode",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/EanLocationCodeEntity",
        ),
        (
            export(owner(extra="<ClinicalSpecialityCollection><ClinicalSpeciality/></ClinicalSpecialityCollection>")),
            "without SpecialityCode",
            "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/ClinicalSpecialityCollection/ClinicalSpeciality[1]",
        ),
    ],
)
def test_malformed_exports_fail_with_the_element_path(document: bytes, message: str, path: str) -> None:
    with pytest.raises(SorFormatError, match=message) as caught:
        load_export(document)
    assert caught.value.path == path
    assert caught.value.location == (path,)
    assert path in caught.value.message


def test_second_ean_in_optional_ean_is_an_error() -> None:
    ean = "<EanLocationCodeEntity><EanLocationCode>5790000141227</EanLocationCode></EanLocationCodeEntity>"
    document = export(owner(extra=f"{ean}<OptionalEanLocationCode>{ean}</OptionalEanLocationCode>"))
    with pytest.raises(SorFormatError, match="Two EAN location codes"):
        load_export(document)


def test_a_doctype_is_refused_so_entities_cannot_expand() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE SorTree [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<SorTree xmlns="urn:oio:sundhedsstyrelsen:organisation:1.0.0"><InstitutionOwnerEntity><InstitutionOwner>'
        b"<SorIdentifier>11111000016001</SorIdentifier><EntityName>&b;</EntityName></InstitutionOwner>"
        b"</InstitutionOwnerEntity></SorTree>"
    )
    with pytest.raises(SorFormatError, match="DOCTYPE is not accepted"):
        load_export(laughs)


def test_external_entities_are_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("geheim")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE SorTree [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<SorTree xmlns="urn:oio:sundhedsstyrelsen:organisation:1.0.0"><InstitutionOwnerEntity><InstitutionOwner>'
        "<SorIdentifier>11111000016001</SorIdentifier><EntityName>&x;</EntityName></InstitutionOwner>"
        "</InstitutionOwnerEntity></SorTree>"
    ).encode()
    with pytest.raises(SorFormatError) as caught:
        load_export(document)
    assert "geheim" not in str(caught.value)


def test_sources_path_str_bytes_and_stream_agree(sor_dir: Path) -> None:
    path = sor_dir / "ONE_PRAKSIS.xml"
    data = path.read_bytes()
    results = [load_export(path), load_export(str(path)), load_export(data), load_export(io.BytesIO(data))]
    assert all(r == results[0] for r in results)


def test_error_texts_never_contain_entity_names() -> None:
    body = owner(extra="<SorStatus><FromDate>bad</FromDate></SorStatus>").replace("Ejer", "Jens Hansen")
    with pytest.raises(SorFormatError) as caught:
        load_export(export(body))
    assert "Jens" not in str(caught.value)


def test_header_created_at_in_utc() -> None:
    result = load_export(export("", header="<CreatedAtTime>2026-01-01T02:00:00Z</CreatedAtTime>"))
    assert result.created_at == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert result.entities == ()


def test_unused_attributes_are_reported() -> None:
    body = owner(extra="<LocalCode lang='da'>x</LocalCode>").replace("<InstitutionOwner>", "<InstitutionOwner id='1'>")
    result = load_export(export(body))
    assert [(i.code, i.path) for i in result.issues] == [
        ("ignored-attribute", "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner"),
        ("ignored-attribute", "/SorTree/InstitutionOwnerEntity[1]/InstitutionOwner/LocalCode"),
    ]
    assert result.entities[0].local_code == "x"


def test_issues_reach_the_callback_before_a_later_failure() -> None:
    body = owner(extra="<Colour>blue</Colour>") + owner(code="22222000016002", extra="<EntityName>x</EntityName>")
    seen: list[LoadIssue] = []
    with pytest.raises(SorFormatError, match="may appear only once"):
        load_export(export(body), on_issue=seen.append)
    assert [i.code for i in seen] == ["unknown-element"]
