"""Property: for random principals, agreements, blocks and requests, nothing forbidden is ever returned,
and every citizen whose data was returned gets exactly one MinLog entry for the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.errors import BindeledError
from bindeled.security import (
    Authorisation,
    Block,
    Consent,
    InMemoryAuditSink,
    Principal,
    Registers,
    Session,
    Target,
    TreatmentRelation,
    TrustAgreement,
    parse_scopes,
)
from bindeled.security.purposes import DEFAULT_PURPOSE_RULES
from bindeled.security.registers import Period
from tests.security.world import CARDIOLOGY, GP_PRACTICE, HOME_CARE, HOSPITAL, MEDICAL, NOW, REGION, is_within

UNITS = [REGION, HOSPITAL, MEDICAL, CARDIOLOGY, GP_PRACTICE, HOME_CARE]
CITIZENS = ["6101709995", "0303801234", "0505054321"]
PEOPLE = ["GP7K2", "HD4M9", "NS3B8", "u-1", "u-2"]
SYSTEMS = ["DemoCare", "DemoEPJ"]
PURPOSES = ["ESP_APPOINTMENTS", "ESP_PLANS", "FMK_READ", "SURVEILLANCE", "SJ_READ"]
TYPES = ["Appointment", "CarePlan", "MedicationStatement", "Observation"]

moments = st.integers(-400, 400).map(lambda days: NOW + timedelta(days=days))
periods = st.one_of(st.just(Period()), st.tuples(moments, moments).map(lambda p: Period(min(p), max(p))))


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    kind = draw(st.sampled_from(["hcp", "trust_user", "citizen", "proxy", "system", "operator"]))
    person = draw(st.sampled_from(PEOPLE))
    scope = "system/*.rs" if kind == "system" else draw(st.sampled_from(["user/*.rs"] * 4 + ["user/Appointment.s"]))
    return Principal(
        kind,  # type: ignore[arg-type]
        user_id=person if person.startswith("u-") else f"id-{person}",
        full_name="N N",
        role="r",
        authorisation_id=person if kind == "hcp" else None,
        organisation_sor=draw(st.sampled_from(UNITS)),
        system_name=draw(st.sampled_from(SYSTEMS)),
        purpose=draw(st.sampled_from(PURPOSES)),
        cpr=draw(st.sampled_from(CITIZENS)),
        represents=frozenset(draw(st.lists(st.sampled_from(CITIZENS), max_size=2))),
        emergency_reason=draw(st.sampled_from([None, None, "not_contactable"])),
        scopes=parse_scopes(scope),
    )


blocks = (
    st.builds(
        Block,
        id=st.just("b"),
        citizen=st.sampled_from(CITIZENS),
        kind=st.just("person"),
        professional_id=st.sampled_from(PEOPLE),
        valid=periods,
        active=st.booleans(),
    )
    | st.builds(
        Block,
        id=st.just("b"),
        citizen=st.sampled_from(CITIZENS),
        kind=st.just("organisation"),
        organisation_sor=st.sampled_from(UNITS),
        include_subunits=st.booleans(),
        valid=periods,
        active=st.booleans(),
    )
    | st.builds(
        Block,
        id=st.just("b"),
        citizen=st.sampled_from(CITIZENS),
        kind=st.just("period"),
        service_period=periods,
        valid=periods,
    )
    | st.builds(Block, id=st.just("b"), citizen=st.sampled_from(CITIZENS), kind=st.just("all"), valid=periods)
)

agreements = st.builds(
    TrustAgreement,
    id=st.just("ta"),
    organisation_sor=st.sampled_from(UNITS),
    system_name=st.sampled_from(SYSTEMS),
    purpose=st.sampled_from(PURPOSES),
    valid=periods,
    last_review=st.none() | moments,
    withdrawn_at=st.none() | moments,
)

registers = st.builds(
    Registers,
    authorisations=st.lists(
        st.builds(Authorisation, st.sampled_from(PEOPLE), st.sampled_from(["7170", "5166"]), periods), max_size=4
    ).map(tuple),
    trust_agreements=st.lists(agreements, max_size=3).map(tuple),
    blocks=st.lists(blocks, max_size=4).map(tuple),
    consents=st.lists(
        st.builds(Consent, id=st.just("c"), citizen=st.sampled_from(CITIZENS), professional_id=st.sampled_from(PEOPLE))
        | st.builds(
            Consent, id=st.just("c"), citizen=st.sampled_from(CITIZENS), organisation_sor=st.sampled_from(UNITS)
        ),
        max_size=2,
    ).map(tuple),
    relations=st.lists(
        st.builds(TreatmentRelation, st.sampled_from(CITIZENS), st.just("encounter"), st.sampled_from(UNITS)),
        max_size=3,
    ).map(tuple),
    is_within=st.just(is_within),
)

targets = st.builds(
    Target,
    citizen=st.none() | st.sampled_from(CITIZENS),
    organisation_sor=st.none() | st.sampled_from(UNITS),
    service_time=st.none() | moments,
)


@dataclass(frozen=True)
class Clock:
    def __call__(self) -> object:
        return NOW


def _ids(p: Principal) -> set[str]:
    return {i for i in (p.user_id, p.authorisation_id) if i}


def _forbidden(p: Principal, resource_type: str, t: Target, regs: Registers) -> bool:
    """An independent statement of what must never be shown (a simpler reading of the rules)."""
    if t.citizen is None:
        return False
    if p.user_type in ("citizen", "proxy"):
        return t.citizen != p.cpr and t.citizen not in (p.represents if p.user_type == "proxy" else ())
    if p.user_type == "operator":
        return True
    if not DEFAULT_PURPOSE_RULES[p.purpose or ""].blocks_apply or p.emergency:
        return False
    live = [b for b in regs.blocks if b.citizen == t.citizen and b.active and b.valid.contains(NOW)]
    consented = any(
        c.citizen == t.citizen
        and c.active
        and c.valid.contains(NOW)
        and (
            c.professional_id in _ids(p)
            or (c.organisation_sor and is_within(p.organisation_sor or "", c.organisation_sor))
        )
        for c in regs.consents
    )
    for b in live:
        hit = (
            (b.kind == "person" and b.professional_id in _ids(p))
            or (b.kind == "organisation" and t.organisation_sor is not None
                and (t.organisation_sor == b.organisation_sor
                     or (b.include_subunits and is_within(t.organisation_sor, b.organisation_sor or ""))))
            or (b.kind == "period" and t.service_time is not None and b.service_period is not None
                and b.service_period.contains(t.service_time))
            or (b.kind == "all" and (not b.resource_types or resource_type in b.resource_types))
        )  # fmt: skip
        if hit and not consented:
            return True
    return False


def _trusted(p: Principal, regs: Registers) -> bool:
    return any(
        a.organisation_sor == p.organisation_sor
        and a.system_name == p.system_name
        and a.purpose == p.purpose
        and a.valid.contains(NOW)
        and not a.withdrawn(NOW)
        and not a.review_lapsed(NOW)
        for a in regs.trust_agreements
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Principal, Registers, str]:
    """A principal, registers that often let them in (so the data rules get exercised), and a covered type."""
    principal = draw(principals())
    regs = draw(registers)
    if draw(st.booleans()) and principal.authorisation_id:
        own = Authorisation(principal.authorisation_id, "7170")
        regs = regs.with_changes(authorisations=(*regs.authorisations, own))
    if draw(st.booleans()):
        org, system, purpose = principal.organisation_sor or "", principal.system_name or "", principal.purpose or ""
        agreement = TrustAgreement("ta-own", org, system, purpose, last_review=NOW - timedelta(days=1))
        regs = regs.with_changes(trust_agreements=(*regs.trust_agreements, agreement))
    covered = [t for t in TYPES if DEFAULT_PURPOSE_RULES[principal.purpose or ""].covers(t)] or TYPES
    return principal, regs, draw(st.sampled_from(covered))


@settings(max_examples=400, deadline=None)
@given(scenarios(), st.lists(targets, max_size=6))
def test_no_forbidden_data_and_one_minlog_entry_per_citizen(
    scenario: tuple[Principal, Registers, str], found: list[Target]
) -> None:
    principal, regs, resource_type = scenario
    sink = InMemoryAuditSink()
    session = Session(principal, regs, sink, lambda: NOW, "corr")
    try:
        session.authorize("search", resource_type)
        shown = session.filter("search", resource_type, [(t, t) for t in found])
        status = 200
    except BindeledError as exc:
        shown, status = [], exc.status
    anyio.run(lambda: session.finish(status=status))

    for target in shown:
        assert not _forbidden(principal, resource_type, target, regs)
    if shown and principal.user_type == "trust_user":
        assert _trusted(principal, regs)
    if shown and principal.user_type == "hcp" and regs.authorisation(principal.authorisation_id or "", NOW) is None:
        assert _trusted(principal, regs)
    citizens = [e.citizen for e in sink.entries]
    assert sorted(citizens) == sorted({t.citizen for t in shown if t.citizen is not None})
    assert len(sink.chain) == 1
