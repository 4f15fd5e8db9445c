"""Building the MedCom Acknowledgement (Kvittering 2.0) for a received message.

An acknowledgement goes back to the original sender's ``source.endpoint``, from the organisation
the message was addressed to, and names the acknowledged letter (``response.identifier`` =
MessageHeader.id). It carries exactly two Provenances: the acknowledged message's current one and
a new ``acknowledgement`` Provenance (entity role ``revision``, what = ``MessageHeader/<acked id>``).
``fatal-error`` and ``transient-error`` carry an OperationOutcome; ``ok`` carries none.

The builder is pure: ids and the clock come from the caller, so a duplicate can be answered with
the same content in a new envelope (:mod:`bindeled.messaging.duplicates`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..errors import Issue
from ..fhir import jsonio
from ._json import as_dict, as_list
from .messages import Message

__all__ = ["ACK_ISSUE_SYSTEM", "HL7_ISSUE_SYSTEM", "AckIds", "ResponseCode", "build_acknowledgement"]

_IG = "http://medcomfhir.dk/ig"
_TERM = f"{_IG}/terminology/CodeSystem"
ACK_ISSUE_SYSTEM = f"{_TERM}/medcom-acknowledgement-error-codes"
HL7_ISSUE_SYSTEM = "http://terminology.hl7.org/CodeSystem/operation-outcome"
_HL7_CODES = frozenset(
    [
        "MSG_ID_INVALID",
        "MSG_ID_TOO_LONG",
        "MSG_BAD_FORMAT",
        "MSG_BAD_SYNTAX",
        "MSG_DATE_FORMAT",
        "MSG_DUPLICATE_ID",
        "MSG_DUBLICATE_ID",
        "MSG_INVALID_ID",
        "MSG_JSON_OBJECT",
        "MSG_LOCAL_FAIL",
        "MSG_NO_MATCH",
        "MSG_NO_EXIST",
        "MSG_NO_MODULE",
        "MSG_NO_SUMMARY",
        "MSG_PARAM_INVALID",
        "MSG_PARAM_NO_REPEAT",
        "MSG_PARAM_UNKNOWN",
        "MSG_RESOURCE_ID_MISMATCH",
        "MSG_RESOURCE_FAIL",
        "MSG_RESOURCE_ID_MISSING",
        "MSG_RESOURCE_NOT_ALLOWED",
        "MSG_RESOURCE_REQUIRED",
        "MSG_RESOURCE_TYPE_MISMATCH",
        "MSG_TRANSACTION_DUPLICATE_ID",
        "MSG_TRANSACTION_MISSING_ID",
        "MSG_UNKNOWN_OPERATION",
        "MSG_UNKNOWN_TYPE",
        "MSG_VERSION_AWARE",
        "MSG_VERSION_AWARE_CONFLICT",
        "MSG_VERSION_AWARE_URL",
        "MSG_WRONG_NS",
    ]
)
"""HL7's ``operation-outcome`` message codes; other ``MSG_`` codes are MedCom's own list."""
_DEFINITION = f"{_IG}/acknowledgement/medcom-acknowledgement-message-definition|2.0.0"
_PROFILES = {
    "Bundle": f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement",
    "MessageHeader": f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader",
    "OperationOutcome": f"{_IG}/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome",
    "Provenance": f"{_IG}/messaging/StructureDefinition/medcom-messaging-provenance",
    "Organization": f"{_IG}/messaging/StructureDefinition/medcom-messaging-organization",
}
_XHTML = "http://www.w3.org/1999/xhtml"


class ResponseCode(StrEnum):
    OK = "ok"
    TRANSIENT_ERROR = "transient-error"
    """AR: a receiver-side technical problem; the sender may retry."""
    FATAL_ERROR = "fatal-error"
    """AE: content or validation; do not resend unchanged."""


@dataclass(frozen=True, slots=True)
class AckIds:
    """The fresh ids an acknowledgement needs (UUIDs chosen by the caller)."""

    envelope: str
    header: str
    provenance: str
    outcome: str


def _narrative(text: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}"><p>{html.escape(text)}</p></div>'}


def _meta(kind: str) -> dict[str, Any]:
    return {"profile": [_PROFILES[kind]]}


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{_IG}/acknowledgement/{resource['resourceType']}/{resource['id']}", "resource": resource}


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("acknowledgement timestamps must be zoned")
    return at.isoformat(timespec="seconds")


def _outcome(ids: AckIds, issues: Sequence[Issue]) -> dict[str, Any]:
    entries = []
    for item in issues or [Issue("error", "processing", "The message could not be processed")]:
        entry: dict[str, Any] = {
            "severity": item.severity if item.severity in ("fatal", "error") else "error",
            "code": item.code,
        }
        if item.details_code and item.details_code.startswith("MSG_"):
            system = HL7_ISSUE_SYSTEM if item.details_code in _HL7_CODES else ACK_ISSUE_SYSTEM
            entry["details"] = {"coding": [{"system": system, "code": item.details_code}]}
        if item.diagnostics:
            entry["diagnostics"] = item.diagnostics
        if item.expression:
            entry["expression"] = list(item.expression)
        entries.append(entry)
    return {
        "resourceType": "OperationOutcome",
        "id": ids.outcome,
        "meta": _meta("OperationOutcome"),
        "text": _narrative(f"{len(entries)} problem(s) found in the acknowledged message"),
        "issue": entries,
    }


def _ack_provenance(ids: AckIds, acked_id: str, who: str, at: str) -> dict[str, Any]:
    return {
        "resourceType": "Provenance",
        "id": ids.provenance,
        "meta": _meta("Provenance"),
        "text": _narrative("Acknowledgement of a received message"),
        "target": [{"reference": f"MessageHeader/{ids.header}"}],
        "occurredDateTime": at,
        "recorded": at,
        "activity": {"coding": [{"system": f"{_TERM}/medcom-messaging-activityCodes", "code": "acknowledgement"}]},
        "agent": [{"who": {"reference": who}}],
        "entity": [{"role": "revision", "what": {"reference": f"MessageHeader/{acked_id}"}}],
    }


def _header(message: Message, ids: AckIds, code: ResponseCode, sender: str, receiver: str) -> dict[str, Any]:
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": ids.header,
        "meta": _meta("MessageHeader"),
        "text": _narrative(f"Acknowledgement ({code.value})"),
        "eventCoding": {"system": f"{_TERM}/medcom-messaging-eventCodes", "code": "acknowledgement-message"},
        "destination": [
            {
                "extension": [
                    {
                        "url": f"{_IG}/messaging/StructureDefinition/medcom-messaging-destinationUseExtension",
                        "valueCoding": {"system": f"{_TERM}/medcom-messaging-destinationUse", "code": "primary"},
                    }
                ],
                "endpoint": message.source_endpoint,
                "receiver": {"reference": receiver},
            }
        ],
        "sender": {"reference": sender},
        "source": {"endpoint": _sor_endpoint(message)},
        "response": {"identifier": message.message_id, "code": code.value},
        "definition": _DEFINITION,
    }
    if code is not ResponseCode.OK:
        header["response"]["details"] = {"reference": f"OperationOutcome/{ids.outcome}"}
    return header


def _sor_endpoint(message: Message) -> str:
    """Our own endpoint: the SOR address of the organisation the message was sent to."""
    us = message.primary_receiver
    if us is None or us.sor is None:
        raise ValueError("the acknowledged message's receiver has no SOR identifier to answer from")
    return f"https://sor2.sum.dsdn.dk/#id={us.sor}"


def _copy(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON resource: through JSON bytes, several times faster than ``copy.deepcopy``."""
    return jsonio.decode_stored(jsonio.encode(resource))


def _organization(message: Message, which: str) -> dict[str, Any]:
    org = message.sender if which == "sender" else message.primary_receiver
    if org is None:
        raise ValueError(f"the acknowledged message has no {which} organisation to answer")
    resource = _copy(org.entry.resource)
    resource.setdefault("text", _narrative("Organisation"))
    return resource


def _organizations(message: Message, parties: list[dict[str, Any]], provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """The two parties plus any organisation the copied Provenance names, each once."""
    out = {f"Organization/{p['id']}": p for p in parties}
    for agent in as_list(provenance.get("agent")):
        ref = as_dict(as_dict(agent).get("who")).get("reference")
        entry = message.resolve(ref) if isinstance(ref, str) else None
        if entry is not None and entry.key not in out and entry.resource.get("resourceType") == "Organization":
            resource = _copy(entry.resource)
            resource.setdefault("text", _narrative("Organisation"))
            out[entry.key] = resource
    return list(out.values())


def build_acknowledgement(
    message: Message, code: ResponseCode, ids: AckIds, at: datetime, issues: Sequence[Issue] = ()
) -> dict[str, Any]:
    """The Acknowledgement message Bundle answering ``message`` with ``code``.

    ``issues`` become the OperationOutcome (required for the two error codes, ignored for ``ok``);
    a ``details_code`` starting ``MSG_`` is emitted as MedCom's acknowledgement error code.
    Raises ValueError when ``message`` is itself an acknowledgement or lacks the parts an answer
    needs (header id, source endpoint, sender, receiver with SOR); such a message cannot be answered
    through MedCom's channel and is for the hub to dead-letter.
    """
    if message.event == "acknowledgement-message":
        raise ValueError("acknowledgements are never acknowledged")
    if message.message_id is None or message.source_endpoint is None:
        raise ValueError("the acknowledged message has no MessageHeader id or source endpoint")
    original_sender = _organization(message, "sender")
    us = _organization(message, "receiver")
    us_ref = f"Organization/{us['id']}"
    them_ref = f"Organization/{original_sender['id']}"
    stamp = _timestamp(at)
    current = message.current_provenance
    resources: list[dict[str, Any]] = [_header(message, ids, code, us_ref, them_ref)]
    if current is not None:
        resources.append(_copy(current.resource))
    resources.append(_ack_provenance(ids, message.message_id, us_ref, stamp))
    resources += _organizations(message, [us, original_sender], current.resource if current else {})
    if code is not ResponseCode.OK:
        resources.append(_outcome(ids, issues))
    return {
        "resourceType": "Bundle",
        "id": ids.envelope,
        "meta": _meta("Bundle"),
        "type": "message",
        "timestamp": stamp,
        "entry": [_entry(r) for r in resources],
    }
