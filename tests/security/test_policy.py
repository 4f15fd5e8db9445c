"""The policy, table-tested: one row per rule, each with the reason code it must give."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest

from bindeled.errors import NotFound
from bindeled.security import (
    AccessRefused,
    Action,
    Authorisation,
    Block,
    Consent,
    ContextMissing,
    Decision,
    Delegation,
    PolicySettings,
    Principal,
    Target,
    TreatmentRelation,
    TrustAgreement,
    decide,
    parse_scopes,
)
from bindeled.security.registers import Period
from tests.security.world import CARDIOLOGY, CARL, DORA, GP_PRACTICE, HOME_CARE, HOSPITAL, MEDICAL, NOW, registers

USER = parse_scopes("user/*.cruds")
GP = Principal(
    "hcp",
    "u-gp",
    full_name="G P",
    role="doctor",
    authorisation_id="GP7K2",
    education_code="7170",
    organisation_sor=GP_PRACTICE,
    system_name="DemoEPJ",
    purpose="ESP_APPOINTMENTS",
    scopes=USER,
)
DOCTOR = replace(GP, user_id="u-doc", authorisation_id="HD4M9", organisation_sor=MEDICAL, system_name="DemoSP")
NURSE = replace(GP, user_id="u-nurse", authorisation_id="NS3B8", education_code="5166", organisation_sor=HOME_CARE)
NURSE = replace(NURSE, system_name="DemoCare")
STRANGER = replace(GP, user_id="u-x", authorisation_id="ZZ9Z9", organisation_sor=CARDIOLOGY)
SOSU = Principal(
    "trust_user",
    "u-sosu",
    full_name="S S",
    role="nspSundAssistR2",
    organisation_sor=HOME_CARE,
    system_name="DemoCare",
    purpose="ESP_APPOINTMENTS",
    scopes=USER,
)
CITIZEN = Principal("citizen", "u-carl", cpr=CARL, scopes=parse_scopes("patient/*.cruds"))
PROXY = Principal(
    "proxy", "u-pia", full_name="P", cpr="6202759996", represents=frozenset({CARL}), scopes=CITIZEN.scopes
)
OPERATOR = Principal("operator", "u-op", full_name="O", scopes=USER)
SYSTEM = Principal(
    "system",
    "c-lab",
    organisation_sor=HOSPITAL,
    system_name="LabSys",
    purpose="SURVEILLANCE",
    scopes=parse_scopes("system/*.rs"),
)
ADMIN = Principal("operator", "u-admin", admin=True)

READ = Action("search", "Appointment")
CARL_AT_GP = Target(CARL, GP_PRACTICE, datetime(2026, 2, 1, tzinfo=UTC))
CARL_AT_CARDIO = Target(CARL, CARDIOLOGY, datetime(2026, 2, 1, tzinfo=UTC))
DORA_AT_GP = Target(DORA, GP_PRACTICE)
NO_CITIZEN = Target(None)
FMK = Delegation("NS3B8", "HD4M9", frozenset({"FMK_WRITE"}))
TA = TrustAgreement("ta", HOME_CARE, "DemoCare", "ESP_APPOINTMENTS", last_review=NOW - timedelta(days=10))


class Case(NamedTuple):
    name: str
    principal: Principal
    action: Action
    target: Target
    changes: dict[str, Any]
    effect: str
    reason: str
    flags: frozenset[str]


NONE: frozenset[str] = frozenset()

CASES: list[Case] = [
    Case("admin", ADMIN, READ, CARL_AT_GP, {}, "allow", "admin", NONE),
    Case("no purpose", replace(GP, purpose=None), READ, CARL_AT_GP, {}, "refuse", "missing_purpose", NONE),
    Case(
        "no authorisation id",
        replace(GP, authorisation_id=None),
        READ,
        NO_CITIZEN,
        {},
        "refuse",
        "missing_context_field",
        NONE,
    ),
    Case(
        "no organisation",
        replace(SOSU, organisation_sor=None),
        READ,
        NO_CITIZEN,
        {},
        "refuse",
        "missing_context_field",
        NONE,
    ),
    Case("unknown purpose", replace(GP, purpose="GOSSIP"), READ, NO_CITIZEN, {}, "refuse", "unknown_purpose", NONE),
    Case(
        "scope too narrow",
        replace(GP, scopes=parse_scopes("user/Observation.rs")),
        READ,
        NO_CITIZEN,
        {},
        "refuse",
        "scope_insufficient",
        NONE,
    ),
    Case(
        "read-only scope, write",
        replace(GP, scopes=parse_scopes("user/*.read")),
        Action("create", "Appointment"),
        CARL_AT_GP,
        {},
        "refuse",
        "scope_insufficient",
        NONE,
    ),
    Case(
        "system needs system scopes",
        replace(SYSTEM, scopes=USER),
        Action("search", "Observation"),
        NO_CITIZEN,
        {},
        "refuse",
        "scope_insufficient",
        NONE,
    ),
    Case(
        "purpose does not cover type",
        GP,
        Action("search", "MedicationStatement"),
        CARL_AT_GP,
        {},
        "refuse",
        "purpose_not_covering",
        NONE,
    ),
    Case(
        "purpose read-only",
        replace(GP, purpose="FMK_READ"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {},
        "refuse",
        "purpose_read_only",
        NONE,
    ),
    Case(
        "FMK write by a nurse",
        replace(DOCTOR, education_code="5166", authorisation_id="NS3B8", purpose="FMK_WRITE"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"authorisations": (Authorisation("NS3B8", "5166"),)},
        "refuse",
        "education_not_permitted",
        NONE,
    ),
    Case(
        "FMK write without authorisation",
        replace(SOSU, purpose="FMK_WRITE"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {},
        "refuse",
        "education_not_permitted",
        NONE,
    ),
    Case(
        "FMK write by a doctor",
        replace(DOCTOR, purpose="FMK_WRITE"),
        Action("create", "MedicationRequest"),
        Target(CARL, MEDICAL),
        {},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "FMK write delegated to a nurse",
        replace(NURSE, purpose="FMK_WRITE", responsible_user="HD4M9"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"authorisations": (*registers().authorisations, Authorisation("NS3B8", "5166")), "delegations": (FMK,)},
        "allow",
        "delegated",
        frozenset({"delegated"}),
    ),
    Case(
        "FMK write delegated to a helper",
        replace(SOSU, purpose="FMK_WRITE", responsible_user="HD4M9", user_id="NS3B8"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"delegations": (FMK,)},
        "allow",
        "delegated",
        frozenset({"delegated"}),
    ),
    Case(
        "FMK write, no delegation",
        replace(SOSU, purpose="FMK_WRITE", responsible_user="HD4M9"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"delegations": (FMK,)},
        "refuse",
        "no_delegation",
        NONE,
    ),
    Case(
        "FMK write, delegation lapsed",
        replace(SOSU, purpose="FMK_WRITE", responsible_user="HD4M9", user_id="NS3B8"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"delegations": (replace(FMK, valid=Period(None, NOW)),)},
        "refuse",
        "no_delegation",
        NONE,
    ),
    Case(
        "FMK write, delegation for another right",
        replace(SOSU, purpose="FMK_WRITE", responsible_user="HD4M9", user_id="NS3B8"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"delegations": (replace(FMK, purposes=frozenset({"DDV"})),)},
        "refuse",
        "no_delegation",
        NONE,
    ),
    Case(
        "FMK write, the delegator is no doctor",
        replace(SOSU, purpose="FMK_WRITE", responsible_user="NS3B8", user_id="u-h"),
        Action("create", "MedicationRequest"),
        CARL_AT_GP,
        {"delegations": (Delegation("u-h", "NS3B8", frozenset({"FMK_WRITE"})),)},
        "refuse",
        "delegator_not_authorised",
        NONE,
    ),
    Case("unknown professional", STRANGER, READ, NO_CITIZEN, {}, "refuse", "not_authorised", NONE),
    Case(
        "expired authorisation",
        replace(NURSE, purpose="FMK_READ"),
        Action("read", "MedicationStatement"),
        NO_CITIZEN,
        {},
        "refuse",
        "authorisation_expired",
        NONE,
    ),
    Case(
        "expired authorisation, trust agreement",
        NURSE,
        READ,
        NO_CITIZEN,
        {},
        "allow",
        "trust_agreement",
        frozenset({"as_trust_user"}),
    ),
    Case("trust: agreement", SOSU, READ, NO_CITIZEN, {}, "allow", "trust_agreement", frozenset({"as_trust_user"})),
    Case("trust: none", SOSU, READ, NO_CITIZEN, {"trust_agreements": ()}, "refuse", "no_trust_agreement", NONE),
    Case(
        "trust: other system",
        replace(SOSU, system_name="Other"),
        READ,
        NO_CITIZEN,
        {},
        "refuse",
        "no_trust_agreement",
        NONE,
    ),
    Case(
        "trust: other purpose",
        replace(SOSU, purpose="ESP_PLANS"),
        Action("search", "CarePlan"),
        NO_CITIZEN,
        {},
        "refuse",
        "no_trust_agreement",
        NONE,
    ),
    Case(
        "trust: expired",
        SOSU,
        READ,
        NO_CITIZEN,
        {"trust_agreements": (replace(TA, valid=Period(None, NOW)),)},
        "refuse",
        "no_trust_agreement",
        NONE,
    ),
    Case(
        "trust: withdrawn",
        SOSU,
        READ,
        NO_CITIZEN,
        {"trust_agreements": (replace(TA, withdrawn_at=NOW),)},
        "refuse",
        "trust_agreement_withdrawn",
        NONE,
    ),
    Case(
        "trust: withdrawal ahead",
        SOSU,
        READ,
        NO_CITIZEN,
        {"trust_agreements": (replace(TA, withdrawn_at=NOW + timedelta(days=1)),)},
        "allow",
        "trust_agreement",
        frozenset({"as_trust_user"}),
    ),
    Case(
        "trust: review lapsed",
        SOSU,
        READ,
        NO_CITIZEN,
        {"trust_agreements": (replace(TA, last_review=NOW - timedelta(days=200)),)},
        "refuse",
        "trust_review_lapsed",
        NONE,
    ),
    Case(
        "trust: never reviewed",
        SOSU,
        READ,
        NO_CITIZEN,
        {"trust_agreements": (replace(TA, last_review=None),)},
        "refuse",
        "trust_review_lapsed",
        NONE,
    ),
    Case(
        "trust: user not in review",
        SOSU,
        READ,
        NO_CITIZEN,
        {"trust_agreements": (replace(TA, users=frozenset({"u-other"})),)},
        "refuse",
        "trust_user_not_reviewed",
        NONE,
    ),
    Case(
        "trust: no emergency access",
        replace(SOSU, emergency_reason="not_contactable"),
        READ,
        NO_CITIZEN,
        {},
        "refuse",
        "emergency_not_permitted",
        NONE,
    ),
    Case("citizen: own data", CITIZEN, READ, CARL_AT_GP, {}, "allow", "citizen", NONE),
    Case("citizen: someone else's", CITIZEN, READ, DORA_AT_GP, {}, "hide", "not_own_data", NONE),
    Case(
        "citizen: write someone else's",
        CITIZEN,
        Action("create", "Appointment"),
        DORA_AT_GP,
        {},
        "refuse",
        "not_own_data",
        NONE,
    ),
    Case(
        "citizen: no emergency",
        replace(CITIZEN, emergency_reason="citizen_consent"),
        READ,
        CARL_AT_GP,
        {},
        "refuse",
        "emergency_not_permitted",
        NONE,
    ),
    Case("proxy: represented", PROXY, READ, CARL_AT_GP, {}, "allow", "proxy", NONE),
    Case("proxy: not represented", PROXY, READ, DORA_AT_GP, {}, "hide", "not_own_data", NONE),
    Case("operator: no citizen data", OPERATOR, READ, CARL_AT_GP, {}, "hide", "not_own_data", NONE),
    Case("operator: other data", OPERATOR, Action("read", "Organization"), NO_CITIZEN, {}, "allow", "operator", NONE),
    Case("relation: assigned GP", GP, READ, CARL_AT_GP, {}, "allow", "authorised", NONE),
    Case(
        "relation: encounter at the hospital covers its departments",
        DOCTOR,
        READ,
        CARL_AT_GP,
        {},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "relation: none, flagged",
        DOCTOR,
        READ,
        Target(DORA, MEDICAL),
        {},
        "allow",
        "authorised",
        frozenset({"pending_verification"}),
    ),
    Case(
        "relation: by professional",
        DOCTOR,
        READ,
        Target(DORA, MEDICAL),
        {"relations": (TreatmentRelation(DORA, "referral", GP_PRACTICE, "HD4M9"),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "relation: expired evidence",
        DOCTOR,
        READ,
        Target(DORA, MEDICAL),
        {"relations": (TreatmentRelation(DORA, "encounter", HOSPITAL, valid=Period(None, NOW)),)},
        "allow",
        "authorised",
        frozenset({"pending_verification"}),
    ),
    Case(
        "person block",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "person", professional_id="GP7K2"),)},
        "hide",
        "person_block",
        NONE,
    ),
    Case(
        "person block by user id",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "person", professional_id="u-gp"),)},
        "hide",
        "person_block",
        NONE,
    ),
    Case(
        "person block on someone else",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "person", professional_id="HD4M9"),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "inactive block",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "person", professional_id="GP7K2", active=False),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "block not yet valid",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "person", professional_id="GP7K2", valid=Period(NOW + timedelta(days=1))),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "block of another citizen",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", DORA, "person", professional_id="GP7K2"),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "organisation block",
        GP,
        READ,
        CARL_AT_CARDIO,
        {"blocks": (Block("b", CARL, "organisation", organisation_sor=CARDIOLOGY),)},
        "hide",
        "organisation_block",
        NONE,
    ),
    Case(
        "organisation block with sub-units",
        GP,
        READ,
        CARL_AT_CARDIO,
        {"blocks": (Block("b", CARL, "organisation", organisation_sor=HOSPITAL, include_subunits=True),)},
        "hide",
        "organisation_block",
        NONE,
    ),
    Case(
        "organisation block without sub-units",
        GP,
        READ,
        CARL_AT_CARDIO,
        {"blocks": (Block("b", CARL, "organisation", organisation_sor=HOSPITAL),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "organisation block, unknown source",
        GP,
        READ,
        Target(CARL),
        {"blocks": (Block("b", CARL, "organisation", organisation_sor=HOSPITAL, include_subunits=True),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "period block, inside",
        GP,
        READ,
        CARL_AT_GP,
        {
            "blocks": (
                Block(
                    "b",
                    CARL,
                    "period",
                    service_period=Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
                ),
            )
        },
        "hide",
        "period_block",
        NONE,
    ),
    Case(
        "period block, outside",
        GP,
        READ,
        CARL_AT_GP,
        {
            "blocks": (
                Block(
                    "b",
                    CARL,
                    "period",
                    service_period=Period(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)),
                ),
            )
        },
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "paper block on appointments",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all", resource_types=frozenset({"Appointment"})),)},
        "hide",
        "all_block",
        NONE,
    ),
    Case(
        "paper block, other type",
        replace(GP, purpose="SJ_READ"),
        Action("search", "Observation"),
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all", resource_types=frozenset({"Appointment"})),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "consent for the professional beats a block",
        GP,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all"),), "consents": (Consent("c", CARL, professional_id="GP7K2"),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "consent for a parent unit beats a block",
        DOCTOR,
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all"),), "consents": (Consent("c", CARL, organisation_sor=HOSPITAL),)},
        "allow",
        "authorised",
        NONE,
    ),
    Case(
        "withdrawn consent does not",
        GP,
        READ,
        CARL_AT_GP,
        {
            "blocks": (Block("b", CARL, "all"),),
            "consents": (Consent("c", CARL, professional_id="GP7K2", active=False),),
        },
        "hide",
        "all_block",
        NONE,
    ),
    Case(
        "emergency beats a block",
        replace(GP, emergency_reason="not_contactable"),
        READ,
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all"),)},
        "allow",
        "authorised",
        frozenset({"emergency"}),
    ),
    Case(
        "emergency skips the relation check",
        replace(DOCTOR, emergency_reason="citizen_consent"),
        READ,
        Target(DORA, MEDICAL),
        {},
        "allow",
        "authorised",
        frozenset({"emergency"}),
    ),
    Case(
        "surveillance ignores blocks",
        SYSTEM,
        Action("search", "Observation"),
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all"),)},
        "allow",
        "system",
        NONE,
    ),
    Case(
        "system: no emergency",
        replace(SYSTEM, emergency_reason="not_contactable"),
        Action("search", "Observation"),
        NO_CITIZEN,
        {},
        "refuse",
        "emergency_not_permitted",
        NONE,
    ),
    Case(
        "system: blocks apply outside surveillance",
        replace(SYSTEM, purpose="LAB_READ"),
        Action("search", "Observation"),
        CARL_AT_GP,
        {"blocks": (Block("b", CARL, "all"),)},
        "hide",
        "all_block",
        NONE,
    ),
]


@pytest.mark.parametrize(
    ("principal", "action", "target", "changes", "effect", "reason", "flags"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(
    principal: Principal,
    action: Action,
    target: Target,
    changes: dict[str, Any],
    effect: str,
    reason: str,
    flags: frozenset[str],
) -> None:
    decision = decide(principal, action, target, registers(**changes), NOW)
    assert (decision.effect, decision.reason, decision.flags) == (effect, reason, flags)


def test_strict_mode_refuses_access_without_a_treatment_relation() -> None:
    strict = PolicySettings(strict_treatment_relation=True)
    decision = decide(DOCTOR, READ, Target(DORA, MEDICAL), registers(), NOW, strict)
    assert (decision.effect, decision.reason, decision.status) == ("refuse", "no_treatment_relation", 403)
    assert decide(DOCTOR, READ, CARL_AT_GP, registers(), NOW, strict).allowed


def test_a_hidden_item_reads_as_not_found_and_refusals_carry_their_code() -> None:
    assert isinstance(Decision("hide", "person_block").error(), NotFound)
    assert "block" not in Decision("hide", "person_block").error().message
    refused = Decision("refuse", "no_trust_agreement", 403).error()
    assert isinstance(refused, AccessRefused) and refused.details_code == "no_trust_agreement"
    missing = Decision("refuse", "missing_purpose", 400, location="purpose").error()
    assert isinstance(missing, ContextMissing)
    assert missing.all_issues()[0].expression == ("purpose",)


def test_decide_reuses_an_earlier_access_decision() -> None:
    access = Decision("refuse", "scope_insufficient", 403)
    assert decide(GP, READ, CARL_AT_GP, registers(), NOW, access=access) is access


def test_unknown_interactions_are_rejected() -> None:
    with pytest.raises(ValueError, match="interaction"):
        Action("teleport", "Patient")
