"""VANS envelopes: document names per message type, limits, round trips and envelope receipts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.errors import InvalidRequest
from bindeled.messaging.acknowledgement import AckIds, ResponseCode, build_acknowledgement
from bindeled.messaging.envelopes.vans import (
    VansEnvelope,
    VansReceipt,
    document_name,
    envelope_for,
    read_receipt,
    read_vans,
    receipt_for,
    write_receipt,
    write_vans,
)
from bindeled.messaging.messages import Message
from bindeled.messaging.profiles import message_type

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
IDS = AckIds(
    "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d",
    "1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e",
    "2c3d4e5f-6a7b-4c8d-8e9f-0a1b2c3d4e5f",
    "3d4e5f6a-7b8c-4d9e-9f0a-1b2c3d4e5f6a",
)


def test_document_names(clean_hn: dict[str, Any], clean_cc: dict[str, Any]) -> None:
    hn, cc = Message(clean_hn), Message(clean_cc)
    assert document_name(hn, message_type("hospital-notification-message")) == "MCM:FDIS20#AdmissionInpatient"
    assert document_name(cc, message_type("care-communication-message")) == "MCM:FDIS91#regarding-referral"
    ack = Message(build_acknowledgement(hn, ResponseCode.TRANSIENT_ERROR, IDS, AT))
    assert document_name(ack, message_type("acknowledgement-message")) == "MCM:FCTL#transient-error"
    with pytest.raises(ValueError, match="not sent on VANS"):
        document_name(hn, message_type("homecareobservation-message"))


def test_envelope_round_trip_and_receipt(clean_cc: dict[str, Any]) -> None:
    message = Message(clean_cc)
    kind = message_type("care-communication-message")
    envelope = envelope_for(message, kind, b'{"resourceType":"Bundle"}', "application/fhir+json", "env-1", AT)
    assert (envelope.message_identifier, envelope.version, envelope.transport) == (
        message.message_id,
        "5.0",
        "reliable",
    )
    assert envelope.sender_gln == "5790001382445" or len(envelope.sender_gln) == 13
    assert read_vans(write_vans(envelope)) == envelope
    receipt = receipt_for(envelope, "env-2", AT)
    assert (receipt.sender_gln, receipt.receiver_gln) == (envelope.receiver_gln, envelope.sender_gln)
    assert read_receipt(write_receipt(receipt)) == receipt


def _envelope(**changes: Any) -> VansEnvelope:
    base: dict[str, Any] = {
        "envelope_identifier": "e",
        "message_identifier": "m",
        "sender_gln": "5790000209354",
        "receiver_gln": "5790001348120",
        "name": "MCM:FDIS91#other",
        "version": "5.0",
        "mime_type": "application/fhir+xml",
        "sent": "2024-05-01T12:00:00+00:00",
        "content": b"<Bundle/>",
    }
    return VansEnvelope(**{**base, **changes})


@pytest.mark.parametrize(
    "envelope",
    [
        _envelope(mime_type="text/plain"),
        _envelope(transport="unreliable"),
        _envelope(content=b"x" * (100 * 1024 * 1024 + 1)),
    ],
    ids=["mime", "unreliable", "over-100-mb"],
)
def test_limits(envelope: VansEnvelope) -> None:
    with pytest.raises(InvalidRequest):
        write_vans(envelope)


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]><VANSEnvelope>&x;</VANSEnvelope>',
        write_vans(_envelope()).replace(b"PEJ1bmRsZS8+", b"!!!"),
        write_vans(_envelope()).replace(b"<Name>MCM:FDIS91#other</Name>", b""),
        b"<VANSEnvelopeAcknowledgement/>",
    ],
    ids=["xxe", "bad-base64", "missing-name", "wrong-root"],
)
def test_bad_envelopes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidRequest):
        read_vans(data)


def test_negative_receipt() -> None:
    receipt = VansReceipt("r", "e", "5790000209354", "5790001348120", False, "2024-05-01T12:00:00+00:00")
    assert read_receipt(write_receipt(receipt)) == receipt
    with pytest.raises(InvalidRequest):
        read_receipt(write_receipt(receipt).replace(b"negative", b"maybe"))


ids_text = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)


@given(
    ids_text,
    ids_text,
    ids_text,
    st.binary(min_size=1, max_size=300),
    st.sampled_from(["application/fhir+xml", "application/fhir+json"]),
)
def test_round_trip_property(envelope_id: str, message_id: str, name: str, content: bytes, mime: str) -> None:
    envelope = _envelope(
        envelope_identifier=envelope_id, message_identifier=message_id, name=name, content=content, mime_type=mime
    )
    assert read_vans(write_vans(envelope)) == envelope


def test_empty_envelopes_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        write_vans(_envelope(content=b""))
