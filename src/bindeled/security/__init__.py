"""The security gate: who is calling (tokens → Principal), may they (policy), and what is remembered (audit).

Modules, one concept each:

* ``tokens``     JWT verification against trusted issuers' JWKS (PyJWT), clock skew
* ``scopes``     SMART v1/v2 scopes
* ``principal``  the access context and its required fields (400 with specific codes)
* ``devissuer``  bindeled's own signing key, JWKS and demo users
* ``clients``    private_key_jwt client credentials for system clients (``/oauth/token``)
* ``consent``    blocks and positive consents as FHIR Consent resources
* ``registers``  authorisations, trust agreements, blocks, consents, treatment relations
* ``purposes``   what each purpose of use covers
* ``roles``      what a role may do beyond its user type (secretary, epidemiologist, operator)
* ``policy``     ``decide(...) -> Decision``: pure, one place
* ``facts``      resource → policy target (citizen, source organisation, service time)
* ``session``    the per-request guard the repository calls
* ``gate``       headers → Principal → Session
* ``audit``      BALP AuditEvents in a hash chain, ``verify``
* ``minlog``     the citizen's log: one entry per citizen per request
* ``sinks`` / ``audit_store``   where audit and MinLog are kept (memory, SQL)
* ``audit_queue``  write-behind for reads' audit records (writes stay in their transaction)
* ``register_store`` / ``register_documents`` / ``authorisation_import``   the administered registers
* ``pending``    accesses without a registered treatment relation, kept for follow-up
* ``errors``     the gate's refusals with ``details_code``
"""

from __future__ import annotations

from .audit import AuditRecord, ChainState, VerifyResult, build_audit_event, verify_records
from .audit_store import SqlAuditSink
from .clients import MemoryJtiCache, RegisteredClient, exchange_client_credentials, verify_client_assertion
from .consent import directives_from_consent
from .devissuer import DEMO_USERS, DemoUser, LocalIssuer, demo_user
from .errors import AccessRefused, AuthorInstitutionNotSor, ContextMissing, OAuthRefused, TokenRejected
from .facts import require_sor_institution, target_of
from .gate import Gate
from .minlog import MinLogCollector, MinLogEntry, minlog_audit_event, minlog_view
from .policy import Action, Decision, PolicySettings, Target, decide, decide_access
from .principal import Principal, principal_from_claims, require_data_context
from .purposes import DEFAULT_PURPOSE_RULES, PurposeRule
from .registers import (
    Authorisation,
    Block,
    Consent,
    Delegation,
    Period,
    Registers,
    TreatmentRelation,
    TrustAgreement,
)
from .scopes import ResourceScope, ScopeSet, parse_scopes
from .session import Session
from .sinks import AuditSink, InMemoryAuditSink, PurgeCounts, purge_expired, verify_chain
from .tokens import IssuerConfig, RemoteJwks, StaticJwks, TokenVerifier

__all__ = [
    "DEFAULT_PURPOSE_RULES",
    "DEMO_USERS",
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
