"""The operator audit trail: one FHIR AuditEvent per request (IHE BALP), in a tamper-evident hash chain.

Every request, refused ones too, produces one AuditEvent shaped after the IHE Basic Audit Log
Patterns (RESTful interaction type and subtype, C/R/U/D/E action, outcome, the user, client and
server agents, the patient and data entities, the request id). Nothing personal goes into free
text: people are ids and references, never names or CPR numbers, and failures carry a reason code.

The events are kept as :class:`AuditRecord` rows in a hash chain: each record's hash covers its
sequence number, time, the previous record's hash and the exact event bytes. :func:`verify_records`
walks a chain and names the first record that was changed, removed or moved. Records older than
the retention period can be purged from the front; the hash of the last purged record is kept as the
chain's *anchor* so what remains still verifies. The head (last sequence number and hash) is stored
apart from the records, so removing records from the end is detected too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from ..fhir.jsonio import Resource
from .principal import Principal

__all__ = [
    "GENESIS_HASH",
    "AuditRecord",
    "ChainState",
    "ChainVerifier",
    "Outcome",
    "Problem",
    "VerifyResult",
    "build_audit_event",
    "chain_hash",
    "event_bytes",
    "format_instant",
    "link",
    "verify_records",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record ever written."""

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
PURPOSE_SYSTEM = "urn:bindeled:purpose-of-use"
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_BALP_ENTITY = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_ACTIONS = {"create": "C", "read": "R", "vread": "R", "history": "R", "update": "U", "patch": "U", "delete": "D"}

Outcome = Literal["0", "4", "8", "12"]
"""AuditEvent.outcome: success, minor failure (refused, bad request), serious failure, major failure."""


def format_instant(moment: datetime) -> str:
    """A zoned instant in one fixed-width form (UTC, microseconds), so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def _user_agent(principal: Principal) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "type": {"coding": [_coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")]},
        "who": {"identifier": {"system": f"urn:bindeled:user:{principal.issuer}", "value": principal.user_id}},
        "requestor": True,
    }
    if principal.role:
        agent["role"] = [{"coding": [_coding("urn:bindeled:role", principal.role)]}]
    if principal.organisation_sor:
        agent["location"] = {"identifier": {"system": SOR_SYSTEM, "value": principal.organisation_sor}}
    if principal.purpose:
        agent["purposeOfUse"] = [{"coding": [_coding(PURPOSE_SYSTEM, principal.purpose)]}]
    return agent


def _client_agent(principal: Principal) -> dict[str, Any]:
    system = principal.system_name or principal.client_id or "unknown"
    return {
        "type": {"coding": [_coding(_DCM, "110153", "Source Role ID")]},
        "who": {"identifier": {"system": "urn:bindeled:system", "value": system}},
        "requestor": False,
    }


def _entities(patients: Sequence[str], resources: Sequence[str], request_id: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {"what": {"reference": ref}, "type": _coding(_ENTITY_TYPE, "1"), "role": _coding(_OBJECT_ROLE, "1")}
        for ref in patients
    ]
    found += [
        {"what": {"reference": ref}, "type": _coding(_ENTITY_TYPE, "2"), "role": _coding(_OBJECT_ROLE, "4")}
        for ref in resources
    ]
    if request_id:
        found.append({"what": {"identifier": {"value": request_id}}, "type": _coding(_BALP_ENTITY, "XrequestId")})
    return found


def _purposes(principal: Principal) -> dict[str, Any]:
    """The purpose of use, and emergency access (v3 ActReason ETREAT) with its reason code, when claimed."""
    found = [{"coding": [_coding(PURPOSE_SYSTEM, principal.purpose)]}] if principal.purpose else []
    if principal.emergency_reason:
        reason = _coding("urn:bindeled:emergency-reason", principal.emergency_reason)
        found.append({"coding": [_coding(_ACT_REASON, "ETREAT"), reason]})
    return {"purposeOfEvent": found} if found else {}


def build_audit_event(
    *,
    interaction: str,
    recorded: datetime,
    outcome: Outcome,
    principal: Principal | None,
    reason: str | None = None,
    resource_type: str | None = None,
    patients: Sequence[str] = (),
    resources: Sequence[str] = (),
    request_id: str | None = None,
    server: str = "bindeled",
) -> Resource:
    """An AuditEvent for one request (BALP RESTful interaction); ``reason`` is a code, never free text.

    ``interaction`` is a FHIR restful-interaction code (``read``, ``search-type``, ``create`` …;
    ``search`` is written as ``search-type``), ``patients`` and ``resources`` are references
    (``Patient/123``), ``principal`` is None when the caller could not be identified.
    """
    code = "search-type" if interaction == "search" else interaction
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": _coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"),
        "subtype": [_coding("http://hl7.org/fhir/restful-interaction", code)],
        "action": _ACTIONS.get(interaction, "E"),
        "recorded": format_instant(recorded),
        "outcome": outcome,
    }
    if reason:
        event["outcomeDesc"] = reason
    if principal is not None:
        event.update(_purposes(principal))
    agents = [] if principal is None else [_user_agent(principal), _client_agent(principal)]
    agents.append({"type": {"coding": [_coding(_DCM, "110152", "Destination Role ID")]}, "requestor": False})
    agents[-1]["who"] = {"display": server}
    event["agent"] = agents
    event["source"] = {
        "observer": {"display": server},
        "type": [_coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server")],
    }
    entities = _entities(patients, resources, request_id)
    if resource_type and not resources:
        entities.append({"what": {"type": resource_type}, "type": _coding(_ENTITY_TYPE, "2")})
    if entities:
        event["entity"] = entities
    return event


def event_bytes(event: Resource) -> bytes:
    """The stored form of an event: compact JSON with sorted keys (UTF-8)."""
    return msgspec.json.encode(event, order="sorted")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One link of the chain."""

    seq: int
    recorded: str
    """The event time as :func:`format_instant` writes it."""
    prev_hash: str
    hash: str
    body: bytes
    """The AuditEvent JSON exactly as hashed."""

    def event(self) -> Resource:
        found: Resource = msgspec.json.decode(self.body)
        return found


def chain_hash(seq: int, recorded: str, prev_hash: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{seq}\n{recorded}\n{prev_hash}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def link(prev_seq: int, prev_hash: str, event: Resource, recorded: datetime) -> AuditRecord:
    """The record that follows ``(prev_seq, prev_hash)``."""
    seq, when, body = prev_seq + 1, format_instant(recorded), event_bytes(event)
    return AuditRecord(seq, when, prev_hash, chain_hash(seq, when, prev_hash, body), body)


@dataclass(frozen=True, slots=True)
class ChainState:
    """Where a stored chain starts (the anchor, after purges) and ends (the head)."""

    anchor_seq: int = 0
    anchor_hash: str = GENESIS_HASH
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


Problem = Literal["changed", "removed", "reordered", "truncated"]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of a chain check."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: Problem | None = None


def _check(records: Sequence[AuditRecord], index: int, expected_seq: int, expected_prev: str) -> Problem | None:
    record = records[index]
    if chain_hash(record.seq, record.recorded, record.prev_hash, record.body) != record.hash:
        return "changed"
    if record.seq > expected_seq:
        later = any(r.seq == expected_seq for r in records[index + 1 :])
        return "reordered" if later else "removed"
    if record.seq < expected_seq or record.prev_hash != expected_prev:
        return "reordered"
    return None


class ChainVerifier:
    """Checks a chain fed in pages (in stored order); :func:`verify_records` for one batch."""

    def __init__(self, state: ChainState) -> None:
        self.state = state
        self._seq, self._prev, self._checked = state.anchor_seq + 1, state.anchor_hash, 0

    def feed(self, records: Sequence[AuditRecord]) -> VerifyResult | None:
        """The failure at the first bad record of this page, or None when the page is sound."""
        for index, record in enumerate(records):
            problem = _check(records, index, self._seq, self._prev)
            if problem is not None:
                return VerifyResult(False, self._checked, record.seq, problem)
            self._seq, self._prev, self._checked = record.seq + 1, record.hash, self._checked + 1
        return None

    def finish(self) -> VerifyResult:
        """The verdict once every record was fed: the chain must end at the stored head."""
        if self._seq - 1 != self.state.head_seq or self._prev != self.state.head_hash:
            return VerifyResult(False, self._checked, self._seq, "truncated")
        return VerifyResult(True, self._checked)


def verify_records(records: Sequence[AuditRecord], state: ChainState) -> VerifyResult:
    """Check ``records`` (in stored order) against each other and against ``state``; stop at the first problem.

    ``changed``: a record's content no longer matches its hash. ``removed``: a record is missing
    (a gap in the sequence). ``reordered``: records are in another order than written, or a record
    links to another predecessor than the one before it. ``truncated``: records at the end are gone
    (the stored head says more were written).
    """
    verifier = ChainVerifier(state)
    return verifier.feed(records) or verifier.finish()
