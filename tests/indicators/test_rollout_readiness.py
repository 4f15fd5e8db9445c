"""The rollout view's derivations: SOR phones, trust agreements, system clients, test messages, plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bindeled.indicators.rollout import RolloutPlan, assess, view_json
from bindeled.indicators.rollout.readiness import LatestLetter, OrganisationReadiness, RolloutView
from bindeled.indicators.sor_tree import sor_tree_from_organizations
from bindeled.registry import SorTree, synthetic_region
from bindeled.registry.fhir import tree_resources
from bindeled.registry.model import Contact, Level
from bindeled.security.clients import RegisteredClient
from bindeled.security.registers import Period, TrustAgreement
from bindeled.security.scopes import parse_scopes

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def tree() -> SorTree:
    organizations = list(tree_resources(SorTree.from_export(synthetic_region()), NOW.date()))
    return sor_tree_from_organizations(r for r in organizations if r["resourceType"] == "Organization")


def _owner(tree: SorTree, name: str) -> str:
    return next(e.sor_code for e in tree.roots() if e.name == name)


def _unit(tree: SorTree, owner: str) -> str:
    return next(e.sor_code for e in tree.descendants(owner) if e.level is Level.UNIT)


def _org(view: RolloutView, sor: str) -> OrganisationReadiness:
    return next(o for o in view.organisations if o.sor == sor)


def _service(view: RolloutView, sor: str, service: str) -> dict[str, object]:
    found = next(s for s in _org(view, sor).services if s.service == service)
    return {"status": found.status, **{c.check: (c.passed, c.required) for c in found.checks}}


def _client(sor: str, *purposes: str, active: bool = True) -> RegisteredClient:
    scopes = parse_scopes("system/*.rs")
    return RegisteredClient(f"c-{sor}", {"keys": []}, "EOJ", sor, scopes, frozenset(purposes), active=active)


def _agreement(sor: str, purpose: str, **changes: object) -> TrustAgreement:
    found = TrustAgreement(f"t-{sor}-{purpose}", sor, "EOJ", purpose, Period(NOW - timedelta(days=30)), NOW)
    return replace(found, **changes)  # type: ignore[arg-type]


def test_an_organisation_with_every_fact_registered_is_ready_and_only_the_plan_makes_it_live(tree: SorTree) -> None:
    odense = _owner(tree, "Odense Kommune")
    unit = _unit(tree, odense)
    facts = {
        "agreements": [_agreement(unit, "ESP_APPOINTMENTS")],
        "clients": [_client(unit, "ESP_PLANS", "MESSAGING")],
        "messages": {odense: LatestLetter("m1", "0290000000001", "2026-11-19", True, ("received", "validated"))},
    }
    view = assess(tree, facts["agreements"], facts["clients"], facts["messages"], [], NOW)  # type: ignore[arg-type]
    assert _service(view, odense, "overview") == {
        "status": "ready",
        "sor_phones": (True, True),
        "trust_agreement": (True, True),
        "system_client": (True, True),
    }
    assert _service(view, odense, "messaging")["status"] == "ready"
    assert _service(view, odense, "lab") == {
        "status": "not_ready",
        "trust_agreement": (False, True),
        "system_client": (False, True),
    }
    plan = RolloutPlan(organisation_sor=odense, service="overview", live=True, planned_go_live=date(2026, 10, 1))
    live = assess(tree, facts["agreements"], facts["clients"], facts["messages"], [plan], NOW)  # type: ignore[arg-type]
    assert _service(live, odense, "overview")["status"] == "live"
    row = next(m for m in live.municipalities if m.name == "Odense Kommune")
    assert row.live == ("overview",) and row.practices > 10 and row.practices_ready["overview"] == 0


def test_withdrawn_lapsed_or_other_purpose_agreements_and_inactive_clients_do_not_count(tree: SorTree) -> None:
    vejle = _owner(tree, "Vejle Kommune")
    unit = _unit(tree, vejle)
    agreements = [
        _agreement(unit, "ESP_STAMKORT", withdrawn_at=NOW - timedelta(days=1)),
        _agreement(unit, "ESP_PLANS", last_review=NOW - timedelta(days=400)),
        _agreement(unit, "FMK_READ"),
        _agreement(unit, "ESP_APPOINTMENTS", valid=Period(NOW + timedelta(days=3))),
    ]
    clients = [_client(unit, "ESP_PLANS", active=False), _client(_unit(tree, _owner(tree, "Kolding Kommune")))]
    view = assess(tree, agreements, clients, {}, [], NOW)
    found = _service(view, vejle, "overview")
    assert found["trust_agreement"] == (False, True) and found["system_client"] == (False, True)
    assert _service(view, vejle, "messaging")["test_message"] == (False, True)


def test_region_and_practices_need_no_trust_agreement_and_a_failed_test_message_is_not_ready(tree: SorTree) -> None:
    region = _owner(tree, "Region Syddanmark")
    failed = LatestLetter("m2", "0290000000036", "2026-11-19", False, ("received", "refused"))
    view = assess(tree, [], [_client(_unit(tree, region))], {region: failed}, [], NOW)
    assert _org(view, region).kind == "region"
    assert _service(view, region, "overview") == {
        "status": "ready",
        "sor_phones": (True, True),
        "trust_agreement": (False, False),
        "system_client": (True, True),
    }
    assert _service(view, region, "messaging")["status"] == "not_ready"
    kinds = {o.kind for o in view.organisations}
    assert kinds == {"region", "municipality", "practice"}
    assert len([o for o in view.organisations if o.kind == "municipality"]) == 22


def test_a_unit_without_any_phone_in_sor_fails_the_phone_check() -> None:
    region = SorTree.from_export(synthetic_region())
    owner = next(e for e in region.roots() if e.name == "Ærø Kommune")
    # The same municipality, but nobody in it (the owner included) registered a phone number.
    entities = [replace(e, contact=Contact()) for e in [owner, *region.descendants(owner.sor_code)]]
    tree = SorTree(entities)
    view = assess(tree, [], [], {}, [], NOW)
    phones = next(c for c in _org(view, owner.sor_code).services[0].checks if c.check == "sor_phones")
    assert not phones.passed and phones.detail.startswith("0/")


def test_the_view_is_plain_json_with_iso_dates(tree: SorTree) -> None:
    odense = _owner(tree, "Odense Kommune")
    plan = RolloutPlan(organisation_sor=odense, service="lab", planned_go_live=date(2027, 2, 1))
    found = view_json(assess(tree, [], [], {}, [plan], NOW))
    assert found["on"] == "2026-11-20"
    org = next(o for o in found["organisations"] if o["sor"] == odense)
    lab = next(s for s in org["services"] if s["service"] == "lab")
    assert lab["planned_go_live"] == "2027-02-01" and lab["status"] == "not_ready"
    assert next(m for m in found["municipalities"] if m["code"] == org["municipality_code"])["planned"] == [
        ["lab", "2027-02-01"]
    ]
