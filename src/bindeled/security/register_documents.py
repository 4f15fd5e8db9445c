"""The administered registers' documents: what an administrator sends, checked, and what the policy gets.

Four registers are kept as JSON documents (``security_register_entry``), one per id:

=======================  ====================================================================
``trust-agreements``     :class:`TrustAgreementDoc` → :class:`~.registers.TrustAgreement`
``delegations``          :class:`DelegationDoc` → :class:`~.registers.Delegation`
``treatment-relations``  :class:`RelationDoc` → :class:`~.registers.TreatmentRelation`
``clients``              :class:`ClientDoc` → :class:`~.clients.RegisteredClient`
=======================  ====================================================================

Instants are RFC 3339 date-times with a time zone; ``valid_to`` is exclusive. Unknown fields are
refused, so a misspelt field never silently means "unbounded". A trust agreement's next review is due
six months after ``last_review`` (shown as ``review_due``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

from ..errors import InvalidRequest
from .clients import RegisteredClient
from .principal import PURPOSES
from .registers import REVIEW_INTERVAL, Delegation, Period, TreatmentRelation, TrustAgreement
from .scopes import parse_scopes

__all__ = [
    "REGISTER_NAMES",
    "ClientDoc",
    "DelegationDoc",
    "RegisterKind",
    "RelationDoc",
    "TrustAgreementDoc",
    "decode_document",
    "document_view",
    "register_kind",
]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_SOR = re.compile(r"\d{11,18}\Z")
_CPR = re.compile(r"\d{10}\Z")
_MUNICIPALITY = re.compile(r"\d{4}\Z")
_DIGITS = re.compile(r"\d{6,}")
"""Long digit runs (a CPR number in the wrong field) never reach an error text."""


class _Doc(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def period(self) -> Period:
        return Period(self.valid_from, self.valid_to)


class TrustAgreementDoc(_Doc, kw_only=True, forbid_unknown_fields=True):
    """A SOR unit's trust agreement for one system and one purpose, made with its municipality (or region)."""

    organisation_sor: str
    system_name: str
    purpose: str
    municipality_code: str | None = None
    """The municipality (four-digit code) that entered into the agreement for the unit; shown, not decided on."""
    last_review: datetime | None = None
    withdrawn_at: datetime | None = None
    users: list[str] | None = None

    def record(self) -> TrustAgreement:
        users = frozenset(self.users) if self.users is not None else None
        return TrustAgreement(
            self.id,
            self.organisation_sor,
            self.system_name,
            self.purpose,
            self.period(),
            self.last_review,
            self.withdrawn_at,
            users,
        )


class DelegationDoc(_Doc, kw_only=True, forbid_unknown_fields=True):
    """A delegation (bemyndigelse) from an authorised professional to a helper."""

    helper_id: str
    delegator_authorisation_id: str
    purposes: list[str]

    def record(self) -> Delegation:
        return Delegation(self.helper_id, self.delegator_authorisation_id, frozenset(self.purposes), self.period())


class RelationDoc(_Doc, kw_only=True, forbid_unknown_fields=True):
    """Registered evidence of a treatment relation between a citizen and a unit (or a professional)."""

    citizen: str
    kind: Literal["encounter", "referral", "assigned_gp", "municipal_service"]
    organisation_sor: str
    professional_id: str | None = None

    def record(self) -> TreatmentRelation:
        return TreatmentRelation(self.citizen, self.kind, self.organisation_sor, self.professional_id, self.period())


class ClientDoc(_Doc, kw_only=True, forbid_unknown_fields=True):
    """A registered system client (SMART Backend Services); ``id`` is its client id."""

    jwks: dict[str, Any]
    system_name: str
    organisation_sor: str
    scopes: str = "system/*.rs"
    purposes: list[str] = msgspec.field(default_factory=list)
    system_version: str | None = None
    organisation_name: str | None = None
    active: bool = True

    def record(self) -> RegisteredClient:
        return RegisteredClient(
            client_id=self.id,
            jwks=self.jwks,
            system_name=self.system_name,
            organisation_sor=self.organisation_sor,
            allowed_scopes=parse_scopes(self.scopes),
            purposes=frozenset(self.purposes),
            system_version=self.system_version,
            organisation_name=self.organisation_name,
            active=self.active,
        )


RegisterKind = type[TrustAgreementDoc] | type[DelegationDoc] | type[RelationDoc] | type[ClientDoc]
Document = TrustAgreementDoc | DelegationDoc | RelationDoc | ClientDoc

_KINDS: Mapping[str, RegisterKind] = {
    "trust-agreements": TrustAgreementDoc,
    "delegations": DelegationDoc,
    "treatment-relations": RelationDoc,
    "clients": ClientDoc,
}
REGISTER_NAMES = tuple(_KINDS)


def register_kind(name: str) -> RegisterKind:
    """The document type of a register; unknown names are 404-worthy, so the caller decides."""
    return _KINDS[name]


def _bad(message: str, field: str) -> InvalidRequest:
    return InvalidRequest(message, location=(field,), details_code="invalid_register_entry")


def _purposes(values: list[str], field: str) -> None:
    for value in values:
        if value not in PURPOSES:
            raise _bad(f"Unknown purpose of use {value!r}", field)


def _check_trust(doc: TrustAgreementDoc) -> None:
    if not _SOR.match(doc.organisation_sor):
        raise _bad("organisation_sor must be a SOR code", "organisation_sor")
    if not doc.system_name.strip():
        raise _bad("system_name is empty", "system_name")
    if doc.municipality_code is not None and not _MUNICIPALITY.match(doc.municipality_code):
        raise _bad("municipality_code must be four digits", "municipality_code")
    _purposes([doc.purpose], "purpose")


def _check_delegation(doc: DelegationDoc) -> None:
    if not doc.helper_id.strip() or not doc.delegator_authorisation_id.strip():
        raise _bad("helper_id and delegator_authorisation_id are required", "helper_id")
    if not doc.purposes:
        raise _bad("A delegation delegates at least one purpose", "purposes")
    _purposes(doc.purposes, "purposes")


def _check_relation(doc: RelationDoc) -> None:
    if not _CPR.match(doc.citizen):
        raise _bad("citizen must be a CPR number", "citizen")
    if not _SOR.match(doc.organisation_sor):
        raise _bad("organisation_sor must be a SOR code", "organisation_sor")


def _check_client(doc: ClientDoc) -> None:
    keys = doc.jwks.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        raise _bad("jwks must hold a non-empty 'keys' list", "jwks")
    if any("d" in k for k in keys):
        raise _bad("jwks must hold public keys only", "jwks")
    if not _SOR.match(doc.organisation_sor):
        raise _bad("organisation_sor must be a SOR code", "organisation_sor")
    scopes = parse_scopes(doc.scopes)
    if not scopes.resources or any(s.context != "system" for s in scopes.resources):
        raise _bad("A client's scopes are system/ scopes", "scopes")
    _purposes(doc.purposes, "purposes")


_CHECKS: Mapping[type, Callable[[Any], None]] = {
    TrustAgreementDoc: _check_trust,
    DelegationDoc: _check_delegation,
    RelationDoc: _check_relation,
    ClientDoc: _check_client,
}


def _zoned(doc: Document) -> None:
    for name in ("valid_from", "valid_to", "last_review", "withdrawn_at"):
        value = getattr(doc, name, None)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise _bad(f"{name} needs a time zone", name)
    if doc.valid_from is not None and doc.valid_to is not None and doc.valid_to < doc.valid_from:
        raise _bad("valid_to lies before valid_from", "valid_to")


_FIELD = re.compile(r"at `\$\.(\w+)|field `(\w+)`")


def _field_of(message: str) -> str:
    """The field a msgspec validation message names (``… - at `$.purpose` ``, ``… field `purpose` ``)."""
    found = _FIELD.search(message)
    return next((g for g in found.groups() if g), "body") if found else "body"


def decode_document(kind: RegisterKind, body: bytes, id: str) -> Document:
    """A checked document from a request body; its ``id`` must match the URL's (or is taken from it)."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise InvalidRequest("The body is not valid JSON", details_code="invalid_register_entry") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("The body must be a JSON object", details_code="invalid_register_entry")
    if raw.setdefault("id", id) != id:
        raise _bad("The id in the body differs from the id in the URL", "id")
    if not _ID.match(id):
        raise _bad("An id is 1-64 letters, digits, '.', '_' or '-'", "id")
    try:
        doc: Document = msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        field = _field_of(str(exc))
        raise _bad(f"The entry is malformed: {_DIGITS.sub('…', str(exc))}", field) from None
    _zoned(doc)
    _CHECKS[kind](doc)
    return doc


def document_view(doc: Document) -> dict[str, Any]:
    """The document as JSON for the admin API, with the derived ``review_due`` for trust agreements."""
    view: dict[str, Any] = msgspec.to_builtins(doc)
    if isinstance(doc, TrustAgreementDoc) and doc.last_review is not None:
        view["review_due"] = (doc.last_review + REVIEW_INTERVAL).isoformat()
    return view


@dataclass(frozen=True, slots=True)
class StoredDocuments:
    """Every stored register document, decoded."""

    agreements: tuple[TrustAgreement, ...] = ()
    delegations: tuple[Delegation, ...] = ()
    relations: tuple[TreatmentRelation, ...] = ()
    clients: tuple[RegisteredClient, ...] = ()
