"""The read-only message views: what they read from a Bundle, in JSON and XML, and never raising."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import resource_to_xml, xml_to_resource
from bindeled.messaging.care_communication import read_care_communication
from bindeled.messaging.conformance import check_message
from bindeled.messaging.hospital_notification import read_notification
from bindeled.messaging.messages import Message, reference_key

from ._mutate import Bundle


def test_header_parties_and_patient(clean_hn: Bundle, definitions: Definitions) -> None:
    for bundle in (clean_hn, xml_to_resource(resource_to_xml(clean_hn, definitions), definitions)):
        message = Message(bundle)
        assert message.envelope_id == "a5e5b880-c087-4055-b9ec-99108695f81d"
        assert message.message_id == "b9b4818e-02de-4cc4-b418-d20cbc7b5404"
        assert message.event == "hospital-notification-message"
        assert message.sender is not None and message.primary_receiver is not None
        assert (message.sender.sor, message.sender.gln) == ("265161000016000", "5790000209354")
        assert (message.primary_receiver.sor, message.primary_receiver.gln) == ("953741000016009", "5790001348120")
        assert message.cpr == "2509479989"
        assert message.source_endpoint == "https://sor2.sum.dsdn.dk/#id=265161000016000"
        assert message.activity == "admit-inpatient"
        assert [e.resource["resourceType"] for e in message.focus] == ["Encounter"]
        assert [(i, use) for i, use, _ in message.destinations] == [(0, "primary")]


def test_history_stack(medcom_examples: Any, definitions: Definitions) -> None:
    from .conftest import load_message

    bundle = load_message(
        medcom_examples / "hospitalnotification/Bundle-f4aa42a4-86db-4e68-9b38-9dda0dfd5774.json", definitions
    )
    message = Message(bundle)
    assert len(message.provenances) == 2
    current = message.current_provenance
    assert current is not None and current.activity == "discharge-inpatient-home"
    assert current.entities == [("revision", "MessageHeader/b9b4818e-02de-4cc4-b418-d20cbc7b5404")]
    note = read_notification(message)
    assert note is not None and note.code == "SLHJ"


def test_references_resolve_relative_and_absolute(clean_cc: Bundle) -> None:
    message = Message(clean_cc)
    patient = message.patients[0]
    assert message.resolve(f"Patient/{patient.resource['id']}") is patient
    assert message.resolve(f"https://medcomfhir.dk/ig/carecommunication/Patient/{patient.resource['id']}") is patient
    assert message.resolve("Patient/unknown") is None
    assert reference_key("urn:uuid:1234") == "urn:uuid:1234"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resource",
                    "reference",
                    "id",
                    "identifier",
                    "entry",
                    "resourceType",
                    "text",
                    "coding",
                    "code",
                    "extension",
                    "url",
                    "destination",
                    "sender",
                    "focus",
                    "target",
                    "activity",
                    "period",
                    "category",
                    "payload",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


KINDS = ["Patient", "Provenance", "Encounter", "Organization", "Communication", "OperationOutcome"]
resources = st.builds(
    lambda kind, ident, body: {**body, "resourceType": kind, "id": ident},
    st.sampled_from(KINDS),
    st.sampled_from(["1", "2"]),
    st.dictionaries(
        st.sampled_from(
            [
                "identifier",
                "target",
                "activity",
                "agent",
                "entity",
                "class",
                "status",
                "period",
                "category",
                "payload",
                "extension",
                "deceasedBoolean",
                "focus",
                "text",
            ]
        ),
        json_values,
        max_size=5,
    ),
)
EVENTS = ["hospital-notification-message", "care-communication-message", "acknowledgement-message"]


@settings(max_examples=150)
@given(json_values, st.lists(resources, max_size=5), st.sampled_from(EVENTS))
def test_junk_never_raises(junk: Any, entries: list[Any], event: str) -> None:
    header = {
        "resourceType": "MessageHeader",
        "id": "1",
        "eventCoding": {"code": event},
        "destination": junk,
        "sender": {"reference": "Organization/1"},
        "focus": [{"reference": "Encounter/1"}, {"reference": "Communication/2"}],
    }
    body = [{"resource": header}, *({"resource": r} for r in entries), {"resource": junk}, junk]
    bundle = {"resourceType": "Bundle", "type": "message", "entry": body}
    message = Message(bundle)
    issues = check_message(message)
    assert all(i.details_code and i.expression for i in issues)
    read_notification(message)


def test_care_communication_parts(clean_cc: Bundle) -> None:
    cc = read_care_communication(Message(clean_cc))
    assert cc is not None
    assert cc.thread_id == "urn:uuid:da1edb7c-6e7c-4af8-bdd1-94f4aa99908a"
    assert (cc.category, cc.topic, cc.priority) == ("regarding-referral", "Undersøgelser forude for visitation", None)
    text, attachment = cc.segments
    assert text.text is not None and text.attachment is None
    assert text.author == "PractitionerRole/9437cbf4-809f-4f65-a0fb-11f19268fc21"
    assert text.identifier == "urn:uuid:591d6e21-6237-41af-a443-7f40e15ab6d6"
    assert text.date == "2023-11-22T12:32:00+02:00"
    assert attachment.attachment is not None and attachment.attachment["contentType"] == "application/pdf"
    assert attachment.path == f"{cc.path}.payload[1]"


def test_not_a_care_communication(clean_hn: Bundle) -> None:
    assert read_care_communication(Message(clean_hn)) is None
