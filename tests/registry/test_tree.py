"""The SOR tree: structure, containment, and inheritance from the nearest ancestor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.errors import InvalidRequest, NotFound
from bindeled.registry import Address, Contact, EanLocation, Inherited, Level, SorEntity, SorExport, SorTree
from bindeled.registry.model import Validity

OWNER, HOSPITAL, DEPARTMENT, SECTION = "347801000016001", "347811000016004", "347821000016008", "347831000016005"


@pytest.fixture
def sygehus_tree(sygehus: SorExport) -> SorTree:
    return SorTree.from_export(sygehus)


def test_structure(sygehus_tree: SorTree) -> None:
    assert len(sygehus_tree) == 4
    assert [e.sor_code for e in sygehus_tree.roots()] == [OWNER]
    assert [e.sor_code for e in sygehus_tree.ancestors(SECTION)] == [DEPARTMENT, HOSPITAL, OWNER]
    assert [e.sor_code for e in sygehus_tree.descendants(OWNER)] == [HOSPITAL, DEPARTMENT, SECTION]
    assert [e.sor_code for e in sygehus_tree.children(DEPARTMENT)] == [SECTION]
    assert sygehus_tree.owner(SECTION).sor_code == OWNER
    assert sygehus_tree.parent(OWNER) is None
    assert SECTION in sygehus_tree and "1" not in sygehus_tree
    with pytest.raises(NotFound):
        sygehus_tree["99999999999"]


def test_is_within(sygehus_tree: SorTree) -> None:
    assert sygehus_tree.is_within(SECTION, DEPARTMENT)
    assert sygehus_tree.is_within(SECTION, OWNER)
    assert sygehus_tree.is_within(DEPARTMENT, DEPARTMENT)
    assert not sygehus_tree.is_within(DEPARTMENT, SECTION)
    assert not sygehus_tree.is_within("99999999999", OWNER)
    assert not sygehus_tree.is_within(SECTION, "99999999999")


def test_is_within_across_trees(region: SorTree) -> None:
    municipalities = [e for e in region.roots() if e.municipality_code and e.name.endswith("Kommune")]
    odense, vejle = municipalities[13], municipalities[19]
    unit = next(region.descendants(odense.sor_code))
    assert region.is_within(unit.sor_code, odense.sor_code)
    assert not region.is_within(unit.sor_code, vejle.sor_code)


def test_sample_inheritance(sygehus_tree: SorTree) -> None:
    resolved = sygehus_tree.resolve(SECTION)
    assert resolved.phone is not None
    assert (resolved.phone.value, resolved.phone.source, resolved.phone.inherited) == ("46361266", OWNER, True)
    assert resolved.postal_address is not None and resolved.postal_address.value.street_name == "Hestetorvet"
    assert resolved.visiting_address == resolved.postal_address
    assert resolved.activity_address == resolved.postal_address
    assert resolved.fax is None
    assert resolved.ean is None
    own = sygehus_tree.resolve(OWNER).phone
    assert own is not None and not own.inherited


def test_ean_is_inherited_from_the_practice_owner(praksis: SorExport) -> None:
    tree = SorTree.from_export(praksis)
    ean = tree.resolve("8341000016002").ean
    assert ean is not None
    assert (ean.value.gln, ean.source, ean.inherited) == ("5790000141227", "8321000016007", True)


def test_visiting_and_activity_addresses() -> None:
    postal, visiting, activity = Address(street_name="P"), Address(street_name="V"), Address(street_name="A")
    tree = SorTree(
        [
            SorEntity("11111000016001", Level.OWNER, "o", postal_address=postal),
            SorEntity("22222000016002", Level.INSTITUTION, "i", "11111000016001", visiting_address=visiting),
            SorEntity("33333000016003", Level.UNIT, "u", "22222000016002", activity_address=activity),
            SorEntity("44444000016004", Level.UNIT, "w", "33333000016003"),
        ]
    )
    institution = tree.resolve("22222000016002")
    assert institution.visiting_address is not None and institution.visiting_address.value == visiting
    assert institution.activity_address == institution.visiting_address
    unit = tree.resolve("33333000016003")
    assert unit.activity_address is not None and unit.activity_address.value == activity
    # A missing visiting address is the postal address, never an ancestor's visiting address.
    assert unit.visiting_address is not None and unit.visiting_address.value == postal
    ward = tree.resolve("44444000016004")
    assert ward.activity_address is not None and ward.activity_address.value == postal


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        ([SorEntity("11111000016001", Level.UNIT, "u", "22222000016002")], "no valid parent"),
        ([SorEntity("11111000016001", Level.OWNER, "o", "22222000016002")], "has a parent"),
        (
            [
                SorEntity("11111000016001", Level.OWNER, "o"),
                SorEntity("22222000016002", Level.UNIT, "u", "11111000016001"),
            ],
            "no valid parent",
        ),
        ([SorEntity("11111000016001", Level.OWNER, "o"), SorEntity("11111000016001", Level.OWNER, "o")], "twice"),
    ],
)
def test_invalid_trees(entities: list[SorEntity], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        SorTree(entities)


def test_active_leaves_out_units_under_a_closed_parent() -> None:
    closed = Validity(date(2000, 1, 1), date(2020, 12, 31))
    tree = SorTree(
        [
            SorEntity("11111000016001", Level.OWNER, "o"),
            SorEntity("22222000016002", Level.INSTITUTION, "i", "11111000016001", validity=closed),
            SorEntity("33333000016003", Level.UNIT, "u", "22222000016002"),
        ]
    )
    assert [e.sor_code for e in tree.active(date(2020, 12, 31))] == [
        "11111000016001",
        "22222000016002",
        "33333000016003",
    ]
    assert [e.sor_code for e in tree.active(date(2021, 1, 1))] == ["11111000016001"]


# -- the inheritance rule as a property ------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn) -> SorTree:
    """Random trees up to depth 6 where each entity may or may not have a phone, e-mail, address and EAN."""
    size = draw(st.integers(1, 25))
    entities: list[SorEntity] = []
    for index in range(size):
        code = f"{index + 1:05d}1000016001"
        parent = draw(st.sampled_from([None, *entities])) if entities else None
        level = Level.OWNER if parent is None else Level.INSTITUTION if parent.level is Level.OWNER else Level.UNIT
        phone = draw(st.none() | st.just(f"1{index:07d}"))
        email = draw(st.none() | st.just(f"{index}@x.invalid"))
        address = draw(st.none() | st.just(Address(street_name=f"Vej {index}")))
        ean = draw(st.none() | st.just(EanLocation(f"{index:013d}")))
        entity = SorEntity(code, level, f"e{index}", parent.sor_code if parent else None)
        entities.append(replace(entity, contact=Contact(phone=phone, email=email), postal_address=address, ean=ean))
    return SorTree(entities)


@settings(max_examples=60, deadline=None)
@given(trees())
def test_inherited_values_come_from_the_nearest_ancestor_that_has_them(tree: SorTree) -> None:
    for entity in tree:
        lineage = [entity, *tree.ancestors(entity.sor_code)]
        resolved = tree.resolve(entity.sor_code)
        checks: list[tuple[Inherited[Any] | None, Callable[[SorEntity], object]]] = [
            (resolved.phone, lambda e: e.contact.phone),
            (resolved.email, lambda e: e.contact.email),
            (resolved.postal_address, lambda e: e.postal_address),
            (resolved.ean, lambda e: e.ean),
        ]
        for value, pick in checks:
            holders = [e for e in lineage if pick(e) is not None]
            if not holders:
                assert value is None
                continue
            assert value is not None
            assert value.source == holders[0].sor_code
            assert value.value == pick(holders[0])
            assert value.inherited is (holders[0] is not entity)
            assert tree.is_within(entity.sor_code, value.source)


@settings(max_examples=40, deadline=None)
@given(trees())
def test_is_within_matches_the_ancestor_chain(tree: SorTree) -> None:
    codes = [e.sor_code for e in tree]
    for unit in codes:
        chain = {unit} | {a.sor_code for a in tree.ancestors(unit)}
        for other in codes:
            assert tree.is_within(unit, other) is (other in chain)
