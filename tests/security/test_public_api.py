"""The package's public names are pinned: changing them is a decision, not an accident."""

from __future__ import annotations

from bindeled import security


def test_public_names() -> None:
    assert sorted(security.__all__) == [
        "AccessRefused",
        "Action",
        "AuditRecord",
        "AuditSink",
        "AuthorInstitutionNotSor",
        "Authorisation",
        "Block",
        "ChainState",
        "Consent",
        "ContextMissing",
        "DEFAULT_PURPOSE_RULES",
        "DEMO_USERS",
        "Decision",
        "Delegation",
        "DemoUser",
        "Gate",
        "InMemoryAuditSink",
        "IssuerConfig",
        "LocalIssuer",
        "MemoryJtiCache",
        "MinLogCollector",
        "MinLogEntry",
        "OAuthRefused",
        "Period",
        "PolicySettings",
        "Principal",
        "PurgeCounts",
        "PurposeRule",
        "RegisteredClient",
        "Registers",
        "RemoteJwks",
        "ResourceScope",
        "ScopeSet",
        "Session",
        "SqlAuditSink",
        "StaticJwks",
        "Target",
        "TokenRejected",
        "TokenVerifier",
        "TreatmentRelation",
        "TrustAgreement",
        "VerifyResult",
        "build_audit_event",
        "decide",
        "decide_access",
        "demo_user",
        "directives_from_consent",
        "exchange_client_credentials",
        "minlog_audit_event",
        "minlog_view",
        "parse_scopes",
        "principal_from_claims",
        "purge_expired",
        "require_data_context",
        "require_sor_institution",
        "target_of",
        "verify_chain",
        "verify_client_assertion",
        "verify_records",
    ]
    for name in security.__all__:
        assert getattr(security, name) is not None


def test_errors_subclass_the_one_error_tree() -> None:
    from bindeled import errors

    assert issubclass(security.TokenRejected, errors.Unauthorized)
    assert issubclass(security.ContextMissing, errors.InvalidRequest)
    assert issubclass(security.AccessRefused, errors.Forbidden)
    assert issubclass(security.AuthorInstitutionNotSor, errors.Unprocessable)
    assert issubclass(security.OAuthRefused, errors.InvalidRequest)
