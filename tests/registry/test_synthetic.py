"""The synthetic Region Syddanmark SOR tree is internally consistent and clearly synthetic."""

from __future__ import annotations

from collections import Counter
from datetime import date

from bindeled.registry import Level, SorLookup, SorTree, is_valid_gln, synthetic_region
from bindeled.registry.synthetic import REGION_CODE, SYNTHETIC_LOCAL_CODE, SYNTHETIC_SOR_NAMESPACE

TODAY = date(2026, 1, 1)
HOSPITALS = {
    "Odense Universitetshospital",
    "Sygehus Lillebælt",
    "Sydvestjysk Sygehus",
    "Sygehus Sønderjylland",
    "Psykiatrien i Region Syddanmark",
}


def test_every_owner_chain_resolves(region: SorTree) -> None:
    for entity in region:
        top = region.owner(entity.sor_code)
        assert top.level is Level.OWNER
        assert entity.level is Level.OWNER or region.is_within(entity.sor_code, top.sor_code)
    for entity in region:
        for code in (*entity.replaces, *entity.replaced_by):
            assert code in region


def test_codes_are_synthetic_and_glns_valid(region: SorTree) -> None:
    glns = [e.ean.gln for e in region if e.ean]
    assert glns and all(is_valid_gln(g) and g.startswith("029") for g in glns)
    assert len(set(glns)) == len(glns)
    assert all(SYNTHETIC_SOR_NAMESPACE in e.sor_code and len(e.sor_code) >= 11 for e in region)
    assert all(e.local_code == SYNTHETIC_LOCAL_CODE for e in region)
    assert all(e.shak.startswith("99") for e in region if e.shak)
    assert all(e.ydernummer.startswith("9") and len(e.ydernummer) == 6 for e in region if e.ydernummer)
    assert region.synthetic


def test_region_hospitals_and_municipalities(region: SorTree) -> None:
    (owner,) = [e for e in region.roots() if e.name == "Region Syddanmark"]
    assert owner.region_code == REGION_CODE
    institutions = {e.name for e in region.children(owner.sor_code)}
    assert institutions == HOSPITALS
    municipalities = [e for e in region.roots() if e.name.endswith(" Kommune")]
    assert len(municipalities) == 22
    assert len({m.municipality_code for m in municipalities}) == 22
    for municipality in municipalities:
        names = {e.name for e in region.descendants(municipality.sor_code)}
        assert any(n.startswith("Hjemmeplejen") for n in names)
        assert "Genoptræning og rehabilitering" in names
    depth = max(sum(1 for _ in region.ancestors(e.sor_code)) for e in region)
    assert depth == 4  # region → hospital → site → department → ward
    shaks = [e.shak for e in region if e.shak]
    assert len(shaks) == len(set(shaks))


def test_gp_practices(region: SorTree) -> None:
    lookup = SorLookup(region)
    practices = [e for e in region if e.ydernummer]
    current = {e.ydernummer for e in region.active(TODAY) if e.ydernummer}
    assert 290 <= len(current) <= 310
    shared = Counter(e.ydernummer for e in region.active(TODAY) if e.ydernummer)
    assert any(count > 1 for count in shared.values())
    closed = [e for e in practices if e.validity.to_date is not None]
    assert closed
    for unit in closed:
        holders = lookup.by_ydernummer(unit.ydernummer or "", TODAY)
        assert unit not in holders
        (successor,) = [h for h in holders if h.replaces]
        assert successor.replaces == (unit.sor_code,)
        assert unit.replaced_by == (successor.sor_code,)
        assert unit in lookup.by_ydernummer(unit.ydernummer or "")
    for unit in practices:
        if unit.validity.is_active(TODAY):
            assert lookup.receiving_gln(unit.sor_code, TODAY) is not None


def test_every_current_unit_can_receive_messages(region: SorTree) -> None:
    lookup = SorLookup(region)
    for entity in region.active(TODAY):
        if entity.level is Level.UNIT:
            assert lookup.receiving_gln(entity.sor_code, TODAY) is not None, entity.sor_code
            assert region.resolve(entity.sor_code).postal_address is not None


def test_same_seed_same_tree() -> None:
    assert synthetic_region() == synthetic_region()
    assert synthetic_region(seed=1) != synthetic_region(seed=2)
