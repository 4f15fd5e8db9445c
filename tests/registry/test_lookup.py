"""Lookups by SOR code, SHAK, ydernummer and EAN, current and historical."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bindeled.registry import AmbiguousLookup, EanLocation, Level, SorEntity, SorExport, SorLookup, SorTree
from bindeled.registry.model import Validity

TODAY = date(2026, 1, 1)
OWNER, INSTITUTION = "11111000016001", "22222000016002"


def unit(code: str, **fields: Any) -> SorEntity:
    return SorEntity(code, Level.UNIT, f"unit {code}", INSTITUTION, **fields)


ENDED = Validity(date(2000, 1, 1), date(2025, 6, 30), date(2000, 1, 1))
LATER = Validity(date(2025, 7, 1), None, date(2025, 7, 1))
FUTURE = Validity(date(2027, 1, 1), None, date(2027, 1, 1))


@pytest.fixture
def lookup() -> SorLookup:
    tree = SorTree(
        [
            SorEntity(OWNER, Level.OWNER, "owner", ean=EanLocation("5790000141227")),
            SorEntity(INSTITUTION, Level.INSTITUTION, "institution", OWNER, shak="9901"),
            unit("30000000016001", shak="990101", ydernummer="012345", validity=ENDED),
            unit("30000000016002", shak="990101", ydernummer="012345", validity=LATER),
            unit("30000000016003", ydernummer="012345", ean=EanLocation("5790000173624")),
            unit("30000000016004", ydernummer="054321", validity=FUTURE),
            unit("30000000016005", ean=EanLocation("5798000000001", non_active=True)),
            unit("30000000016006", ean=EanLocation("5790000141210", validity=ENDED)),
        ]
    )
    return SorLookup(tree)


def codes(entities: list[SorEntity]) -> list[str]:
    return [e.sor_code for e in entities]


def test_by_sor(lookup: SorLookup) -> None:
    found = lookup.by_sor("30000000016001")
    assert found is not None and found.name == "unit 30000000016001"
    assert lookup.by_sor("30000000016001", TODAY) is None
    assert lookup.by_sor("30000000016002", TODAY) is not None
    assert lookup.by_sor("99999999999") is None


def test_shak_gives_one_unit(lookup: SorLookup) -> None:
    current = lookup.by_shak("990101", TODAY)
    assert current is not None and current.sor_code == "30000000016002"
    then = lookup.by_shak("990101", date(2020, 1, 1))
    assert then is not None and then.sor_code == "30000000016001"
    newest = lookup.by_shak("990101")
    assert newest is not None and newest.sor_code == "30000000016002"
    assert lookup.by_shak("9901", TODAY) is not None
    assert lookup.by_shak("000000", TODAY) is None


def test_shak_held_by_two_valid_units_is_ambiguous() -> None:
    tree = SorTree(
        [
            SorEntity(OWNER, Level.OWNER, "owner"),
            SorEntity(INSTITUTION, Level.INSTITUTION, "institution", OWNER),
            unit("30000000016001", shak="990101"),
            unit("30000000016002", shak="990101"),
        ]
    )
    with pytest.raises(AmbiguousLookup, match="990101"):
        SorLookup(tree).by_shak("990101", TODAY)


def test_ydernummer_gives_a_list(lookup: SorLookup) -> None:
    assert codes(lookup.by_ydernummer("012345")) == ["30000000016001", "30000000016002", "30000000016003"]
    assert codes(lookup.by_ydernummer("012345", TODAY)) == ["30000000016002", "30000000016003"]
    assert codes(lookup.by_ydernummer("012345", date(2020, 1, 1))) == ["30000000016001", "30000000016003"]
    assert codes(lookup.by_ydernummer("054321", TODAY)) == []
    assert codes(lookup.by_ydernummer("054321", date(2027, 1, 1))) == ["30000000016004"]
    assert lookup.by_ydernummer("999999") == []


def test_ean_gives_the_defining_unit(lookup: SorLookup) -> None:
    owner = lookup.by_gln("5790000141227", TODAY)
    assert owner is not None and owner.sor_code == OWNER
    defining = lookup.by_gln("5790000173624", TODAY)
    assert defining is not None and defining.sor_code == "30000000016003"
    assert lookup.by_gln("5798000000001", TODAY) is None
    assert lookup.by_gln("5798000000001") is not None
    assert lookup.by_gln("5790000141210", TODAY) is None
    assert lookup.by_gln("5790000141210", date(2020, 1, 1)) is not None
    assert lookup.by_gln("0000000000000") is None


def test_receiving_gln_walks_up_to_a_receiving_ancestor(lookup: SorLookup) -> None:
    assert lookup.receiving_gln("30000000016003", TODAY) == "5790000173624"
    assert lookup.receiving_gln("30000000016002", TODAY) == "5790000141227"
    assert lookup.receiving_gln("30000000016005", TODAY) == "5790000141227"
    assert lookup.receiving_gln("30000000016001", TODAY) is None


def test_units_under_a_closed_institution_are_not_current() -> None:
    tree = SorTree(
        [
            SorEntity(OWNER, Level.OWNER, "owner"),
            SorEntity(INSTITUTION, Level.INSTITUTION, "institution", OWNER, validity=ENDED),
            unit("30000000016001", ydernummer="012345"),
        ]
    )
    lookup = SorLookup(tree)
    assert lookup.by_ydernummer("012345", TODAY) == []
    assert codes(lookup.by_ydernummer("012345")) == ["30000000016001"]


def test_sample_lookups(sygehus: SorExport, praksis: SorExport, apotek: SorExport) -> None:
    day = date(2010, 1, 26)
    hospital = SorLookup(SorTree.from_export(sygehus))
    found = hospital.by_shak("2529010", day)
    assert found is not None and found.sor_code == "347831000016005"
    practice = SorLookup(SorTree.from_export(praksis))
    assert codes(practice.by_ydernummer("019062", day)) == ["8341000016002"]
    assert practice.receiving_gln("8341000016002", day) == "5790000141227"
    pharmacy = SorLookup(SorTree.from_export(apotek))
    owner = pharmacy.by_gln("5790000173624", day)
    assert owner is not None and owner.sor_code == "306011000016003"
    assert pharmacy.by_sor("306031000016009", date(1990, 1, 1)) is None


def test_by_identifier(lookup: SorLookup) -> None:
    assert codes(lookup.by_identifier("urn:oid:1.2.208.176.1.4", "012345", TODAY)) == [
        "30000000016002",
        "30000000016003",
    ]
    assert codes(lookup.by_identifier("https://www.gs1.org/gln", "5790000173624", TODAY)) == ["30000000016003"]
    assert codes(lookup.by_identifier("urn:oid:1.3.88", "5790000173624", TODAY)) == ["30000000016003"]
    assert codes(lookup.by_identifier("urn:oid:1.2.208.176.1.1", OWNER)) == [OWNER]
    assert codes(lookup.by_identifier("https://bindeled.dk/fhir/NamingSystem/shak", "9901", TODAY)) == [INSTITUTION]
    assert lookup.by_identifier("urn:oid:1.2.208.176.1.1", "99999999999") == []
    assert lookup.by_identifier("http://cvr.dk", "12345678") == []


def test_municipality_and_region_via_the_owner(region: SorTree, praksis: SorExport) -> None:
    lookup = SorLookup(region)
    odense = next(e for e in region.roots() if e.name == "Odense Kommune")
    home_care = next(e for e in region.descendants(odense.sor_code) if e.name.startswith("Hjemmeplejen"))
    assert lookup.municipality_of(home_care.sor_code) == "0461"
    assert lookup.region_of(home_care.sor_code) == "1083"
    ward = next(e for e in region if e.name.endswith("sengeafsnit"))
    assert lookup.municipality_of(ward.sor_code) is None
    assert lookup.region_of(ward.sor_code) == "1083"
    practice = SorLookup(SorTree.from_export(praksis))
    assert practice.region_of("8341000016002") == "1084"  # from the practice owner's EAN registration
    assert practice.municipality_of("8341000016002") is None
