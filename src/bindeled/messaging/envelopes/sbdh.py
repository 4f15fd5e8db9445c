"""The EHMI Standard Business Document Header (ehmiSBDH) around a MedCom message.

On EHMI (eDelivery/AS4) a MedCom message travels base64-encoded in ``BinaryContent`` under an SBDH:
parties ``0088:<GLN>``; ``Standard`` = the event code; ``TypeVersion`` = the standard's version;
a new ``InstanceIdentifier`` per envelope; business scopes carrying the SOR ids of sender and
receiver, the letter id (MESSAGEIDENTIFIER), the FHIR envelope id (MESSAGEENVELOPEIDENTIFIER) and
StatisticalInformation. The envelope-level ReceiptAcknowledgement (an ebBP signal, due within 10
minutes) is a separate document from the FHIR Acknowledgement and never replaces it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from ...errors import InvalidRequest
from ..messages import Message
from ..profiles import MessageType
from ._xml import parse, text

__all__ = ["SBDH_NS", "SIGNALS_NS", "SbdhEnvelope", "Scope", "envelope_for", "read_sbdh", "receipt_for", "write_sbdh"]

SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
PEPPOL_NS = "http://peppol.eu/xsd/ticc/envelope/1.0"
SIGNALS_NS = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0"
_NS = {"s": SBDH_NS, "p": PEPPOL_NS}
_AUTHORITY = "iso6523-actorid-upis"
_SCOPE_ID = "dk-medcom-messaging"


@dataclass(frozen=True, slots=True)
class Scope:
    type: str
    instance_identifier: str
    identifier: str = _SCOPE_ID
    extra: bytes = b""
    """Further child elements (CorrelationInformation, BusinessService) as XML, kept verbatim."""


@dataclass(frozen=True, slots=True)
class SbdhEnvelope:
    sender: str
    """``0088:<GLN>``."""
    receiver: str
    standard: str
    type_version: str
    instance_identifier: str
    document_type: str
    created: str
    scopes: tuple[Scope, ...]
    mime_type: str
    payload: bytes
    """The carried document, decoded from base64."""
    header_version: str = "1.0"

    def scope(self, kind: str) -> str | None:
        return next((s.instance_identifier for s in self.scopes if s.type == kind), None)

    @property
    def sender_gln(self) -> str:
        return self.sender.split(":", 1)[-1]

    @property
    def receiver_gln(self) -> str:
        return self.receiver.split(":", 1)[-1]


def _required(root: Any, path: str) -> str:
    value = text(root, path, _NS)
    if not value:
        raise InvalidRequest(f"The SBDH lacks {path.replace('s:', '')}", location=(path.replace("s:", ""),))
    return value


def _scope(element: Any) -> Scope:
    extra = b"".join(
        etree.tostring(child, method="c14n", exclusive=True, with_comments=False)
        for child in element
        if isinstance(child.tag, str)
        and etree.QName(child).localname not in ("Type", "InstanceIdentifier", "Identifier")
    )
    return Scope(
        text(element, "s:Type", _NS) or "",
        text(element, "s:InstanceIdentifier", _NS) or "",
        text(element, "s:Identifier", _NS) or "",
        extra,
    )


def read_sbdh(data: bytes) -> SbdhEnvelope:
    """Parse an SBDH document; raises :class:`InvalidRequest` with the missing or bad part."""
    root = parse(data)
    if root.tag != f"{{{SBDH_NS}}}StandardBusinessDocument":
        raise InvalidRequest("Not an SBDH StandardBusinessDocument", location=("StandardBusinessDocument",))
    head = "s:StandardBusinessDocumentHeader"
    doc = f"{head}/s:DocumentIdentification"
    content = root.find("p:BinaryContent", _NS)
    if content is None:
        content = root.find("s:BinaryContent", _NS)
    if content is None or not (content.text or "").strip():
        raise InvalidRequest("The SBDH carries no BinaryContent", location=("BinaryContent",))
    try:
        payload = base64.b64decode("".join(content.text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("BinaryContent is not base64", location=("BinaryContent",)) from None
    return SbdhEnvelope(
        sender=_required(root, f"{head}/s:Sender/s:Identifier"),
        receiver=_required(root, f"{head}/s:Receiver/s:Identifier"),
        standard=_required(root, f"{doc}/s:Standard"),
        type_version=_required(root, f"{doc}/s:TypeVersion"),
        instance_identifier=_required(root, f"{doc}/s:InstanceIdentifier"),
        document_type=_required(root, f"{doc}/s:Type"),
        created=_required(root, f"{doc}/s:CreationDateAndTime"),
        scopes=tuple(_scope(e) for e in root.findall(f"{head}/s:BusinessScope/s:Scope", _NS)),
        mime_type=str(content.get("mimeType", "")),
        payload=payload,
        header_version=text(root, f"{head}/s:HeaderVersion", _NS) or "1.0",
    )


def _sub(parent: Any, name: str, value: str | None = None, ns: str = SBDH_NS) -> Any:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if value is not None:
        element.text = value
    return element


def write_sbdh(envelope: SbdhEnvelope) -> bytes:
    """The SBDH document as UTF-8 XML bytes; an envelope carries exactly one non-empty document."""
    if not envelope.payload:
        raise ValueError("an SBDH envelope carries one non-empty document")
    root = etree.Element(f"{{{SBDH_NS}}}StandardBusinessDocument", nsmap={None: SBDH_NS})
    head = _sub(root, "StandardBusinessDocumentHeader")
    _sub(head, "HeaderVersion", envelope.header_version)
    for role, party in (("Sender", envelope.sender), ("Receiver", envelope.receiver)):
        _sub(_sub(head, role), "Identifier", party).set("Authority", _AUTHORITY)
    doc = _sub(head, "DocumentIdentification")
    for name, value in (
        ("Standard", envelope.standard),
        ("TypeVersion", envelope.type_version),
        ("InstanceIdentifier", envelope.instance_identifier),
        ("Type", envelope.document_type),
        ("MultipleType", "false"),
        ("CreationDateAndTime", envelope.created),
    ):
        _sub(doc, name, value)
    scopes = _sub(head, "BusinessScope")
    for scope in envelope.scopes:
        element = _sub(scopes, "Scope")
        _sub(element, "Type", scope.type)
        _sub(element, "InstanceIdentifier", scope.instance_identifier)
        _sub(element, "Identifier", scope.identifier)
        if scope.extra:
            for child in etree.fromstring(
                b"<x>" + scope.extra + b"</x>", etree.XMLParser(resolve_entities=False, no_network=True)
            ):
                element.append(child)
    content = _sub(root, "BinaryContent", base64.b64encode(envelope.payload).decode("ascii"), PEPPOL_NS)
    content.set("mimeType", envelope.mime_type)
    content.set("encoding", "UTF-8")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _zoned(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("envelope timestamps must be zoned")
    return at.isoformat(timespec="seconds")


def envelope_for(
    message: Message, kind: MessageType, payload: bytes, mime_type: str, instance_identifier: str, at: datetime
) -> SbdhEnvelope:
    """The SBDH for sending ``message`` (serialised as ``payload``) in a new envelope."""
    sender, receiver = message.sender, message.primary_receiver
    if sender is None or receiver is None or not sender.gln or not receiver.gln:
        raise ValueError("an SBDH needs the sender's and the receiver's GLN")
    scopes = [
        Scope("SENDERID", sender.sor or ""),
        Scope("RECEIVERID", receiver.sor or ""),
        Scope("MESSAGEIDENTIFIER", message.message_id or ""),
        Scope("MESSAGEENVELOPEIDENTIFIER", message.envelope_id or ""),
        Scope("StatisticalInformation", f"MCM:{kind.event}"),
    ]
    return SbdhEnvelope(
        sender=f"0088:{sender.gln}",
        receiver=f"0088:{receiver.gln}",
        standard=kind.event,
        type_version=kind.version,
        instance_identifier=instance_identifier,
        document_type="Bundle",
        created=_zoned(at),
        scopes=tuple(scopes),
        mime_type=mime_type,
        payload=payload,
    )


def _signal(received: SbdhEnvelope, at: str) -> bytes:
    root = etree.Element(f"{{{SIGNALS_NS}}}ReceiptAcknowledgement", nsmap={"bpssignal": SIGNALS_NS})
    for name, value in (
        ("OriginalMessageIdentifier", received.instance_identifier),
        ("OriginalDocumentIdentifier", received.scope("DOCUMENTID") or received.standard),
        ("OriginalMessageDateTime", received.created),
        ("ThisMessageDateTime", at),
        ("FromPartyInfo", received.receiver),
        ("ToPartyInfo", received.sender),
        ("CollaborationIdentifier", received.instance_identifier),
    ):
        element = _sub(root, name, value, SIGNALS_NS)
        if name.endswith("PartyInfo"):
            element.set("type", _AUTHORITY)
    return bytes(etree.tostring(root, encoding="UTF-8"))


def receipt_for(received: SbdhEnvelope, instance_identifier: str, at: datetime) -> SbdhEnvelope:
    """The envelope-level ReceiptAcknowledgement for ``received`` (not the FHIR Acknowledgement)."""
    stamp = _zoned(at)
    scopes = tuple(s for s in received.scopes if s.type in ("SENDERID", "RECEIVERID"))
    swapped = tuple(
        Scope("RECEIVERID" if s.type == "SENDERID" else "SENDERID", s.instance_identifier, s.identifier) for s in scopes
    )
    return SbdhEnvelope(
        sender=received.receiver,
        receiver=received.sender,
        standard="ehmisbdh-acknowledgement",
        type_version="ebbp-signals-2.0",
        instance_identifier=instance_identifier,
        document_type="ReceiptAcknowledgement",
        created=stamp,
        scopes=(*swapped, Scope("ORIGINALMESSAGEENVELOPEIDENTIFIER", received.instance_identifier)),
        mime_type="application/xml",
        payload=_signal(received, stamp),
    )
