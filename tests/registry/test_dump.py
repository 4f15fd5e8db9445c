"""Writing the SOR export format, and the importer proved by round trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.registry import (
    Address,
    Contact,
    EanLocation,
    Level,
    SorEntity,
    SorExport,
    SorTree,
    dump_export,
    load_export,
    synthetic_region,
)
from bindeled.registry.gln import with_check_digit
from bindeled.registry.model import Speciality, UnitInformation, Validity

texts = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
optional_texts = st.none() | texts
sor_codes = st.from_regex(r"[1-9][0-9]{10,15}", fullmatch=True)
glns = st.from_regex(r"[0-9]{12}", fullmatch=True).map(with_check_digit)
optional_bools = st.none() | st.booleans()


@st.composite
def validities(draw: st.DrawFn) -> Validity:
    start = draw(st.none() | st.dates(date(1990, 1, 1), date(2030, 1, 1)))
    end = draw(st.none() | st.dates(start or date(1990, 1, 1), date(2040, 1, 1)))
    return Validity(start, end, draw(st.none() | st.just(start)), draw(st.none() | st.dates()))


addresses = st.builds(
    Address,
    street_name=optional_texts,
    building=optional_texts,
    floor=optional_texts,
    mail_delivery_sublocation=optional_texts,
    postcode=optional_texts,
    district_name=optional_texts,
    country=st.none() | st.just("DK"),
)
eans = st.builds(
    EanLocation,
    gln=glns,
    only_internal=optional_bools,
    non_active=optional_bools,
    system_supplier=optional_texts,
    region_code=optional_texts,
    note=optional_texts,
    validity=validities(),
)
unit_information = st.builds(
    UnitInformation,
    ambulant_activity=optional_bools,
    patients_admitted=optional_bools,
    reporting_level=optional_bools,
    local_attributes=st.just(()) | st.tuples(texts, st.just(""), st.just(""), st.just(""), texts),
)


@st.composite
def exports(draw: st.DrawFn) -> SorExport:
    codes = draw(st.lists(sor_codes, min_size=1, max_size=8, unique=True))
    entities: list[SorEntity] = []
    for code in codes:
        parent = draw(st.sampled_from([None, *entities])) if entities else None
        level = Level.OWNER if parent is None else Level.INSTITUTION if parent.level is Level.OWNER else Level.UNIT
        entity = SorEntity(code, level, draw(texts), parent.sor_code if parent else None)
        entities.append(
            replace(
                entity,
                type_code=draw(optional_texts),
                shak=draw(optional_texts),
                ydernummer=draw(optional_texts),
                pharmacy_id=draw(optional_texts),
                ean=draw(st.none() | eans),
                ean_inherited=draw(optional_bools),
                postal_address=draw(st.none() | addresses),
                activity_address=draw(st.none() | addresses),
                contact=draw(st.builds(Contact, phone=optional_texts, email=optional_texts, website=optional_texts)),
                geographical_relation=draw(st.none() | st.sampled_from("12345")),
                specialities=tuple(draw(st.lists(st.builds(Speciality, code=texts, type=optional_texts), max_size=2))),
                unit_information=draw(st.none() | unit_information),
                validity=draw(validities()),
                replaces=tuple(draw(st.lists(sor_codes, max_size=2))),
            )
        )
    created = draw(st.none() | st.datetimes(timezones=st.just(UTC)))
    return SorExport(created, draw(st.none() | st.dates()), tuple(SorTree(entities)))


@settings(max_examples=60, deadline=None)
@given(exports())
def test_dump_then_load_gives_the_same_entities(export: SorExport) -> None:
    back = load_export(dump_export(export))
    assert back.issues == ()
    # The export lists each owner's subtree depth first; compare regardless of the input's order.
    assert {e.sor_code: e for e in back.entities} == {e.sor_code: e for e in export.entities}
    assert len(back.entities) == len(export.entities)
    assert (back.created_at, back.snapshot_date) == (export.created_at, export.snapshot_date)


def test_samples_round_trip(sor_dir: Path) -> None:
    for path in sorted(sor_dir.glob("*.xml")):
        first = load_export(path)
        assert load_export(dump_export(first)).entities == first.entities


def test_synthetic_region_round_trips_through_xml() -> None:
    export = synthetic_region()
    back = load_export(dump_export(export))
    assert back.entities == export.entities
    assert back.created_at == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert back.issues == ()
