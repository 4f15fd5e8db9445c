"""The SOR tree rebuilt from stored Organizations resolves like the register it was imported from."""

from __future__ import annotations

from datetime import date

from bindeled.indicators.sor_tree import sor_tree_from_organizations
from bindeled.registry import SorTree, synthetic_region
from bindeled.registry.fhir import tree_resources
from bindeled.registry.lookup import SorLookup

ON = date(2026, 11, 1)


def test_levels_municipalities_glns_and_inherited_phones_match_the_register() -> None:
    original = SorTree.from_export(synthetic_region())
    organizations = [r for r in tree_resources(original, ON) if r["resourceType"] == "Organization"]
    rebuilt = sor_tree_from_organizations(organizations)
    assert len(rebuilt) == len(original)
    before, after = SorLookup(original), SorLookup(rebuilt)
    for entity in original:
        again = rebuilt[entity.sor_code]
        assert (again.level, again.parent, again.name) == (entity.level, entity.parent, entity.name)
        assert after.municipality_of(entity.sor_code) == before.municipality_of(entity.sor_code)
        phone, phone_again = original.resolve(entity.sor_code).phone, rebuilt.resolve(entity.sor_code).phone
        assert (phone and (phone.value, phone.source)) == (phone_again and (phone_again.value, phone_again.source))
    gln = next(e.ean.gln for e in original if e.ean is not None)
    assert after.by_gln(gln) is not None and after.by_gln(gln) == rebuilt[before.by_gln(gln).sor_code]  # type: ignore[union-attr]
    closed = {e.sor_code for e in original if not e.validity.is_active(ON)}
    assert closed and {e.sor_code for e in rebuilt if not e.validity.is_active(ON)} >= closed


def test_organizations_without_their_parent_are_left_out() -> None:
    original = SorTree.from_export(synthetic_region())
    organizations = [r for r in tree_resources(original, ON) if r["resourceType"] == "Organization"]
    region = next(e for e in original.roots() if e.name == "Region Syddanmark")
    without_region = [o for o in organizations if o["id"] != f"sor-{region.sor_code}"]
    rebuilt = sor_tree_from_organizations(without_region)
    assert region.sor_code not in rebuilt
    assert not any(rebuilt.get(e.sor_code) for e in original.descendants(region.sor_code))
