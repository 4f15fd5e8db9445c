"""EHMI SBDH envelopes: the official samples round-trip; produced envelopes and receipts read back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.errors import InvalidRequest
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import resource_to_xml
from bindeled.messaging.envelopes._xml import parse
from bindeled.messaging.envelopes.sbdh import (
    SIGNALS_NS,
    SbdhEnvelope,
    Scope,
    envelope_for,
    read_sbdh,
    receipt_for,
    write_sbdh,
)
from bindeled.messaging.messages import Message
from bindeled.messaging.profiles import message_type

SAMPLES = {
    "20250429_ehmisbdh_ack_sample.xml": ("Acknowledgement-message", "2.0", "application/fhir+xml"),
    "20250429_ehmisbdh_sample.xml": ("homecareobservation-message", "1.2", "application/fhir+xml"),
    "ehmiSBDH_9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc_HomeCareObservation_XDS_full.xml": (
        "homecareobservation-message",
        "1.2",
        "application/fhir+xml",
    ),
    "ehmiSBDH_9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc_ReceiptAcknowledgement_full.xml": (
        "ehmisbdh-acknowledgement",
        "ebbp-signals-2.0",
        "application/xml",
    ),
    "ehmisbdh_fullsample.xml": ("homecareobservation-message", "1.2", "application/fhir+xml"),
    "ehmisbdh_fullsample_ack.xml": ("acknowledgement-message", "2.0", "application/fhir+xml"),
    "ehmisbdh_fullsample_sbdhack.xml": ("ehmisbdh-acknowledgement", "ebbp-signals-2.0", "application/xml"),
}


@pytest.fixture(scope="module")
def sbdh_dir(medcom_examples: Path) -> Path:
    return medcom_examples / "ehmi-sbdh"


def test_every_sample_is_covered(sbdh_dir: Path) -> None:
    assert {p.name for p in sbdh_dir.glob("*.xml")} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_read_and_round_trip(name: str, sbdh_dir: Path) -> None:
    envelope = read_sbdh((sbdh_dir / name).read_bytes())
    assert (envelope.standard, envelope.type_version, envelope.mime_type) == SAMPLES[name]
    assert envelope.sender.startswith("0088:") and envelope.receiver.startswith("0088:")
    assert len(envelope.sender_gln) == 13
    assert read_sbdh(write_sbdh(envelope)) == envelope


def test_full_sample_carries_the_homecare_message(sbdh_dir: Path, medcom_examples: Path) -> None:
    envelope = read_sbdh((sbdh_dir / "ehmisbdh_fullsample.xml").read_bytes())
    assert envelope.payload == (medcom_examples / "homecareobservation/ehmiMessage.xml").read_bytes()
    assert envelope.scope("MESSAGEIDENTIFIER") and envelope.scope("MESSAGEENVELOPEIDENTIFIER")


def test_documented_defect_sample_carries_oioxml(sbdh_dir: Path) -> None:
    """SOURCES.md: 20250429_ehmisbdh_sample.xml declares HomeCareObservation but carries an OIOXML referral."""
    envelope = read_sbdh((sbdh_dir / "20250429_ehmisbdh_sample.xml").read_bytes())
    root = parse(envelope.payload)
    assert root.tag.endswith("}Emessage")


def test_envelope_and_receipt_for_a_message(clean_hn: dict[str, Any], definitions: Definitions) -> None:
    message = Message(clean_hn)
    kind = message_type("hospital-notification-message")
    payload = resource_to_xml(clean_hn, definitions)
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    envelope = envelope_for(message, kind, payload, "application/fhir+xml", "3d3c1b1a-0f0e-4d0c-8b0a-090807060504", at)
    assert read_sbdh(write_sbdh(envelope)) == envelope
    assert (envelope.sender, envelope.receiver) == ("0088:5790000209354", "0088:5790001348120")
    assert (envelope.standard, envelope.type_version) == ("hospital-notification-message", "3.0")
    assert envelope.scope("SENDERID") == "265161000016000"
    assert envelope.scope("RECEIVERID") == "953741000016009"
    assert envelope.scope("MESSAGEIDENTIFIER") == message.message_id
    assert envelope.scope("MESSAGEENVELOPEIDENTIFIER") == message.envelope_id
    receipt = receipt_for(envelope, "4e4d2c2b-1a1f-4e1d-9c1b-1a0908070605", at)
    assert read_sbdh(write_sbdh(receipt)) == receipt
    assert (receipt.sender, receipt.receiver) == (envelope.receiver, envelope.sender)
    assert receipt.document_type == "ReceiptAcknowledgement" and receipt.mime_type == "application/xml"
    signal = parse(receipt.payload)
    assert signal.tag == f"{{{SIGNALS_NS}}}ReceiptAcknowledgement"
    original = signal.find(f"{{{SIGNALS_NS}}}OriginalMessageIdentifier")
    assert original is not None and original.text == envelope.instance_identifier


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        b"<StandardBusinessDocument",
        b'<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"/>',
        b"<Other/>",
    ],
    ids=["xxe", "malformed", "empty", "wrong-root"],
)
def test_bad_documents_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidRequest):
        read_sbdh(data)


xml_text = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)


@given(
    st.lists(st.tuples(xml_text, xml_text), max_size=4),
    st.binary(min_size=1, max_size=200),
    xml_text,
)
def test_round_trip_property(scopes: list[tuple[str, str]], payload: bytes, standard: str) -> None:
    envelope = SbdhEnvelope(
        sender="0088:5790000209354",
        receiver="0088:5790001348120",
        standard=standard,
        type_version="1.0",
        instance_identifier="6f5e4d3c-2b1a-4f0e-9d8c-7b6a59483726",
        document_type="Bundle",
        created="2024-05-01T12:00:00+02:00",
        scopes=tuple(Scope(t, v) for t, v in scopes),
        mime_type="application/fhir+json",
        payload=payload,
    )
    assert read_sbdh(write_sbdh(envelope)) == envelope


def test_empty_payload_is_refused(sbdh_dir: Path) -> None:
    envelope = read_sbdh((sbdh_dir / "ehmisbdh_fullsample_ack.xml").read_bytes())
    with pytest.raises(ValueError, match="non-empty"):
        write_sbdh(dataclasses.replace(envelope, payload=b""))
