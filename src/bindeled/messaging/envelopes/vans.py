"""The VANS envelope (VANSEnvelope) around one MedCom FHIR message, and its envelope receipt.

What MedCom's governance pages fix, and this module enforces: one message per envelope, carried
base64-encoded; ``Format`` ``HL7``; ``Name`` ``MCM:<type>#<postfix>`` from the statistical-code
list (``MCM:FDIS91#<category>``, ``MCM:FDIS20#<AcuteAmbulant|…>``, ``MCM:FCTL#<response code>``);
``Version`` the standard's catalogue version; ``MIME`` ``application/fhir+xml`` or
``application/fhir+json``; transport ``reliable``; parties addressed by GLN; at most 100 MB; a new
envelope identifier per transmission while the message identifier (the letter) stays.

The element layout (``VANSEnvelope/EnvelopeIdentifier``, ``…/Message/MetaInformation/{Identifier,
Format, Name, Version, MIME, Transport/Type}``, ``…/Message/Content``) follows the element names
MedCom's governance pages use. The normative XSD ("Den gode VANSEnvelope") was not available when
this was written, so the layout is this module's own reading of those pages; the reliable-messaging
semantics do not depend on it. The ``VANSEnvelopeAcknowledgement`` is an envelope receipt, kept
apart from the FHIR Acknowledgement message.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from ...errors import InvalidRequest
from .._json import as_dict, as_list
from ..hospital_notification import read_notification
from ..messages import Message
from ..profiles import MessageType
from ._xml import parse, text

__all__ = [
    "MAX_VANS_BYTES",
    "VansEnvelope",
    "VansReceipt",
    "document_name",
    "envelope_for",
    "read_receipt",
    "read_vans",
    "receipt_for",
    "write_receipt",
    "write_vans",
]

MAX_VANS_BYTES = 100 * 1024 * 1024
"""The VANS network's limit on an enveloped message."""
MIME_TYPES = frozenset({"application/fhir+xml", "application/fhir+json"})
CATALOGUE_VERSIONS = {
    "care-communication-message": "5.0",
    "hospital-notification-message": "3.0.0",
    "acknowledgement-message": "2.0.0",
}
"""``Version`` per standard as MedCom's standards catalogue names it (DOMAIN §5.6)."""

_HN_NAMES = {
    "admit-emergency": "AcuteAmbulant",
    "admit-inpatient": "AdmissionInpatient",
    "start-leave-inpatient": "OnLeave",
    "end-leave-inpatient": "EndOfLeave",
    "discharge-emergency-home": "EndHospitalStay",
    "discharge-inpatient-home": "EndHospitalStay",
}


@dataclass(frozen=True, slots=True)
class VansEnvelope:
    envelope_identifier: str
    """New for every transmission."""
    message_identifier: str
    """The letter (``MessageHeader.id``), kept on resend."""
    sender_gln: str
    receiver_gln: str
    name: str
    """``MCM:FDIS91#<category>`` etc."""
    version: str
    mime_type: str
    sent: str
    content: bytes
    format: str = "HL7"
    transport: str = "reliable"


@dataclass(frozen=True, slots=True)
class VansReceipt:
    """A VANSEnvelopeAcknowledgement: positive or negative receipt of one envelope."""

    envelope_identifier: str
    acknowledged_envelope: str
    sender_gln: str
    receiver_gln: str
    positive: bool
    sent: str


def document_name(message: Message, kind: MessageType) -> str:
    """The VANS ``Name`` (statistical code) for a message; ValueError when it has none."""
    if kind.vans_name is None:
        raise ValueError(f"{kind.event} is not sent on VANS")
    postfix: str | None = None
    if kind.event == "care-communication-message":
        focus = next((e.resource for e in message.focus if e.resource.get("resourceType") == "Communication"), {})
        codings = [c for cat in as_list(focus.get("category")) for c in as_list(as_dict(cat).get("coding"))]
        postfix = as_dict(codings[0]).get("code") if codings else None
    elif kind.event == "hospital-notification-message":
        note = read_notification(message)
        base = note.activity.removeprefix("revise-").removeprefix("cancel-") if note else None
        postfix = _HN_NAMES.get(base or "")
    elif kind.event == "acknowledgement-message":
        response = message.header.get("response")
        postfix = response.get("code") if isinstance(response, dict) else None
    if not isinstance(postfix, str):
        raise ValueError("the message does not say which VANS document name applies")
    return f"{kind.vans_name}#{postfix}"


def _zoned(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("envelope timestamps must be zoned")
    return at.isoformat(timespec="seconds")


def envelope_for(
    message: Message, kind: MessageType, content: bytes, mime_type: str, envelope_identifier: str, at: datetime
) -> VansEnvelope:
    """A new VANS envelope carrying ``message`` serialised as ``content``."""
    sender, receiver = message.sender, message.primary_receiver
    if sender is None or receiver is None or not sender.gln or not receiver.gln:
        raise ValueError("a VANS envelope is addressed by the sender's and the receiver's GLN")
    if message.message_id is None:
        raise ValueError("the message has no MessageHeader.id")
    envelope = VansEnvelope(
        envelope_identifier=envelope_identifier,
        message_identifier=message.message_id,
        sender_gln=sender.gln,
        receiver_gln=receiver.gln,
        name=document_name(message, kind),
        version=CATALOGUE_VERSIONS[kind.event],
        mime_type=mime_type,
        sent=_zoned(at),
        content=content,
    )
    _check(envelope)
    return envelope


def _check(envelope: VansEnvelope) -> None:
    if envelope.mime_type not in MIME_TYPES:
        raise InvalidRequest("MIME must be application/fhir+xml or application/fhir+json", location=("MIME",))
    if envelope.transport != "reliable":
        raise InvalidRequest("MedCom FHIR messages travel with reliable transport", location=("Transport",))
    if not envelope.content:
        raise InvalidRequest("A VANS envelope carries one message", location=("Content",))
    if len(envelope.content) > MAX_VANS_BYTES:
        raise InvalidRequest("The message exceeds VANS's 100 MB limit", location=("Content",))


def _sub(parent: Any, name: str, value: str | None = None) -> Any:
    element = etree.SubElement(parent, name)
    if value is not None:
        element.text = value
    return element


def write_vans(envelope: VansEnvelope) -> bytes:
    _check(envelope)
    root = etree.Element("VANSEnvelope")
    _sub(root, "EnvelopeIdentifier", envelope.envelope_identifier)
    _sub(root, "Sent", envelope.sent)
    _sub(_sub(root, "Sender"), "GLN", envelope.sender_gln)
    _sub(_sub(root, "Receiver"), "GLN", envelope.receiver_gln)
    message = _sub(root, "Message")
    meta = _sub(message, "MetaInformation")
    for name, value in (
        ("Identifier", envelope.message_identifier),
        ("Format", envelope.format),
        ("Name", envelope.name),
        ("Version", envelope.version),
        ("MIME", envelope.mime_type),
    ):
        _sub(meta, name, value)
    _sub(_sub(meta, "Transport"), "Type", envelope.transport)
    _sub(message, "Content", base64.b64encode(envelope.content).decode("ascii"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _required(root: Any, path: str) -> str:
    value = text(root, path, {})
    if not value:
        raise InvalidRequest(f"The VANS envelope lacks {path}", location=(path,))
    return value


def read_vans(data: bytes) -> VansEnvelope:
    """Parse and check a VANS envelope; raises :class:`InvalidRequest` naming the bad part."""
    root = parse(data)
    if root.tag != "VANSEnvelope":
        raise InvalidRequest("Not a VANSEnvelope", location=("VANSEnvelope",))
    meta = "Message/MetaInformation"
    try:
        content = base64.b64decode("".join(_required(root, "Message/Content").split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("Message/Content is not base64", location=("Message/Content",)) from None
    envelope = VansEnvelope(
        envelope_identifier=_required(root, "EnvelopeIdentifier"),
        message_identifier=_required(root, f"{meta}/Identifier"),
        sender_gln=_required(root, "Sender/GLN"),
        receiver_gln=_required(root, "Receiver/GLN"),
        name=_required(root, f"{meta}/Name"),
        version=_required(root, f"{meta}/Version"),
        mime_type=_required(root, f"{meta}/MIME"),
        sent=_required(root, "Sent"),
        content=content,
        format=_required(root, f"{meta}/Format"),
        transport=text(root, f"{meta}/Transport/Type", {}) or "reliable",
    )
    _check(envelope)
    return envelope


def receipt_for(
    received: VansEnvelope, envelope_identifier: str, at: datetime, *, positive: bool = True
) -> VansReceipt:
    """The envelope receipt for ``received`` (never a substitute for the FHIR Acknowledgement)."""
    return VansReceipt(
        envelope_identifier,
        received.envelope_identifier,
        received.receiver_gln,
        received.sender_gln,
        positive,
        _zoned(at),
    )


def write_receipt(receipt: VansReceipt) -> bytes:
    root = etree.Element("VANSEnvelopeAcknowledgement")
    _sub(root, "EnvelopeIdentifier", receipt.envelope_identifier)
    _sub(root, "Sent", receipt.sent)
    _sub(_sub(root, "Sender"), "GLN", receipt.sender_gln)
    _sub(_sub(root, "Receiver"), "GLN", receipt.receiver_gln)
    _sub(root, "AcknowledgedEnvelopeIdentifier", receipt.acknowledged_envelope)
    _sub(root, "AcknowledgementCode", "positive" if receipt.positive else "negative")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def read_receipt(data: bytes) -> VansReceipt:
    root = parse(data)
    if root.tag != "VANSEnvelopeAcknowledgement":
        raise InvalidRequest("Not a VANSEnvelopeAcknowledgement", location=("VANSEnvelopeAcknowledgement",))
    code = _required(root, "AcknowledgementCode")
    if code not in ("positive", "negative"):
        raise InvalidRequest("AcknowledgementCode must be positive or negative", location=("AcknowledgementCode",))
    return VansReceipt(
        _required(root, "EnvelopeIdentifier"),
        _required(root, "AcknowledgedEnvelopeIdentifier"),
        _required(root, "Sender/GLN"),
        _required(root, "Receiver/GLN"),
        code == "positive",
        _required(root, "Sent"),
    )
