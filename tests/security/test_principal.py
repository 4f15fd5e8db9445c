"""The access context: claims → Principal, and the 400s with specific codes when something is missing."""

from __future__ import annotations

from typing import Any

import pytest

from bindeled.security import ContextMissing, principal_from_claims, require_data_context

HCP: dict[str, Any] = {
    "sub": "u-doc",
    "iss": "https://idp",
    "user_type": "hcp",
    "name": "Henrik Demo Overlæge",
    "role": "doctor",
    "authorisation_id": "HD4M9",
    "education_code": "7170",
    "sor": "900000000000212",
    "org_name": "Demo Sygehus",
    "system_name": "DemoSP",
    "system_version": "2.3",
    "purpose": "ESP_APPOINTMENTS",
    "scope": "user/*.rs openid",
}


def refusal(claims: dict[str, Any], request: dict[str, str] | None = None) -> tuple[str | None, tuple[str, ...]]:
    with pytest.raises(ContextMissing) as refused:
        require_data_context(principal_from_claims(claims, request))
    assert refused.value.status == 400
    return refused.value.details_code, refused.value.location


def test_a_complete_context() -> None:
    p = principal_from_claims(HCP)
    require_data_context(p)
    assert (p.user_type, p.full_name, p.organisation_sor, p.purpose, p.issuer) == (
        "hcp",
        "Henrik Demo Overlæge",
        "900000000000212",
        "ESP_APPOINTMENTS",
        "https://idp",
    )
    assert p.scopes.other == {"openid"} and not p.emergency and not p.admin
    assert p.pseudonym() == "hcp:u-doc"


def test_request_headers_set_purpose_and_emergency() -> None:
    p = principal_from_claims(HCP, {"purpose": "SJ_READ", "emergency": "true", "emergency_reason": "not_contactable"})
    assert (p.purpose, p.emergency, p.emergency_reason) == ("SJ_READ", True, "not_contactable")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"purpose": None}, ("missing_purpose", ("purpose",))),
        ({"name": None}, ("missing_context_field", ("full_name",))),
        ({"authorisation_id": None}, ("missing_context_field", ("authorisation_id",))),
        ({"sor": None}, ("missing_context_field", ("organisation_sor",))),
        ({"system_name": None}, ("missing_context_field", ("system_name",))),
        ({"user_type": None}, ("missing_context_field", ("user_type",))),
        ({"user_type": "robot"}, ("unknown_user_type", ("user_type",))),
        ({"purpose": "GOSSIP"}, ("unknown_purpose", ("purpose",))),
        ({"sor": "12345678"}, ("invalid_sor", ("sor",))),
        ({"sub": None}, ("missing_context_field", ("sub",))),
        ({"name": ["a"]}, ("invalid_context_field", ("name",))),
        ({"admin": "yes"}, ("invalid_context_field", ("admin",))),
        ({"emergency": True}, ("missing_emergency_reason", ("emergency_reason",))),
        ({"emergency_reason": "Because I Said So!"}, ("invalid_emergency_reason", ("emergency",))),
    ],
)
def test_missing_or_bad_fields_have_specific_codes(
    change: dict[str, Any], expected: tuple[str, tuple[str, ...]]
) -> None:
    claims = {k: v for k, v in (HCP | change).items() if v is not None}
    assert refusal(claims) == expected


def test_each_user_type_needs_its_own_fields() -> None:
    assert refusal({"sub": "c", "user_type": "citizen"}) == ("missing_context_field", ("cpr",))
    assert refusal({"sub": "c", "user_type": "citizen", "cpr": "12"}) == ("invalid_cpr", ("cpr",))
    proxy = {"sub": "p", "user_type": "proxy", "cpr": "6202759996", "name": "P"}
    assert refusal(proxy) == ("missing_context_field", ("represents",))
    assert refusal(proxy | {"represents": ["x"]}) == ("invalid_cpr", ("represents",))
    require_data_context(principal_from_claims(proxy | {"represents": ["6101709995"]}))
    system = {"sub": "c1", "user_type": "system", "purpose": "MESSAGING", "system_name": "Lab"}
    assert refusal(system) == ("missing_context_field", ("organisation_sor",))
    trust = {"sub": "t", "user_type": "trust_user", "name": "T", "role": "r", "sor": "900000000000301"}
    assert refusal(trust | {"purpose": "ESP_APPOINTMENTS"}) == ("missing_context_field", ("system_name",))


def test_the_admin_claim_counts_only_from_an_issuer_allowed_to_make_admins() -> None:
    claims = {"sub": "a", "user_type": "operator", "name": "A", "admin": True}
    assert not principal_from_claims(claims).admin
    admin = principal_from_claims(claims, allow_admin=True)
    assert admin.admin
    require_data_context(admin)
