"""Acknowledgements built for valid and invalid messages conform to the Acknowledgement 2.0 profile."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import resource_to_xml, xml_to_resource
from bindeled.messaging.acknowledgement import (
    ACK_ISSUE_SYSTEM,
    HL7_ISSUE_SYSTEM,
    AckIds,
    ResponseCode,
    build_acknowledgement,
)
from bindeled.messaging.conformance import check_message
from bindeled.messaging.messages import Message
from bindeled.messaging.profiles import ValidatorPool, message_type

from ._defects import defect_of
from ._mutate import Bundle, header, resource

AT = datetime(2024, 5, 2, 10, 30, 5, tzinfo=timezone(timedelta(hours=2)))
ACK = message_type("acknowledgement-message")


def ids() -> AckIds:
    return AckIds(*(str(uuid.uuid4()) for _ in range(4)))


def profile_errors(bundle: Bundle, pool: ValidatorPool) -> list[tuple[str, str, str]]:
    issues = pool.for_type(ACK).validate(bundle, [ACK.bundle_profile])
    return [(i.code, i.expression[0], i.diagnostics) for i in issues if i.is_error and defect_of(i) is None]


def invalid(bundle: Bundle) -> list[Issue]:
    resource(bundle, "Encounter")["class"]["code"] = "EMER"
    issues = check_message(Message(bundle))
    assert issues
    return issues


@pytest.mark.parametrize("kind", ["hn", "cc"])
def test_ok_for_a_valid_message(
    kind: str, clean: Callable[[str], Bundle], pool: ValidatorPool, definitions: Definitions
) -> None:
    original = clean(kind)
    ack = build_acknowledgement(Message(original), ResponseCode.OK, ids(), AT)
    assert profile_errors(ack, pool) == []
    assert check_message(Message(ack)) == []
    again = xml_to_resource(resource_to_xml(ack, definitions), definitions)
    assert again == ack
    view = Message(ack)
    assert view.header["response"] == {"identifier": Message(original).message_id, "code": "ok"}
    assert view.of_type("OperationOutcome") == []


@pytest.mark.parametrize("code", [ResponseCode.FATAL_ERROR, ResponseCode.TRANSIENT_ERROR])
def test_error_for_an_invalid_message(code: ResponseCode, clean_hn: Bundle, pool: ValidatorPool) -> None:
    # MSG_BAD_SYNTAX's binding check is set aside (see _defects: terminology 1.4.0's ValueSet is broken)
    issues = [*invalid(clean_hn), Issue("error", "structure", "Bad syntax", ("Bundle",), "MSG_BAD_SYNTAX")]
    ack = build_acknowledgement(Message(clean_hn), code, ids(), AT, issues)
    assert profile_errors(ack, pool) == []
    assert check_message(Message(ack)) == []
    view = Message(ack)
    outcome = view.of_type("OperationOutcome")
    assert len(outcome) == 1
    assert view.header["response"]["code"] == code.value
    assert view.header["response"]["details"] == {"reference": f"OperationOutcome/{outcome[0].resource['id']}"}
    entries = outcome[0].resource["issue"]
    assert [e.get("expression") for e in entries[:-1]] == [list(i.expression) for i in issues[:-1]]
    assert entries[-1]["details"]["coding"] == [{"system": HL7_ISSUE_SYSTEM, "code": "MSG_BAD_SYNTAX"}]


def test_two_provenances_and_addressing(clean_hn: Bundle) -> None:
    original = Message(clean_hn)
    ack = Message(build_acknowledgement(original, ResponseCode.OK, ids(), AT))
    provenances = ack.provenances
    assert len(provenances) == 2
    assert provenances[0].resource == original.current_provenance.resource  # type: ignore[union-attr]
    new = provenances[1]
    assert new.activity == "acknowledgement"
    assert new.targets == [f"MessageHeader/{ack.message_id}"]
    assert new.entities == [("revision", f"MessageHeader/{original.message_id}")]
    assert ack.header["destination"][0]["endpoint"] == original.source_endpoint
    assert ack.sender is not None and original.primary_receiver is not None
    assert ack.sender.sor == original.primary_receiver.sor
    assert ack.primary_receiver is not None and original.sender is not None
    assert ack.primary_receiver.gln == original.sender.gln


def test_medcom_issue_codes_use_medcom_system(clean_hn: Bundle) -> None:
    issue = Issue("error", "value", "Unknown receiver", ("Bundle",), "MSG_Receiver_Identifier_UNKNOWN")
    ack = build_acknowledgement(Message(clean_hn), ResponseCode.FATAL_ERROR, ids(), AT, [issue])
    entry = Message(ack).of_type("OperationOutcome")[0].resource["issue"][0]
    assert entry["details"]["coding"] == [{"system": ACK_ISSUE_SYSTEM, "code": "MSG_Receiver_Identifier_UNKNOWN"}]


def test_a_duplicate_gets_the_same_content_in_a_new_envelope(clean_hn: Bundle) -> None:
    issues = invalid(clean_hn)
    first = build_acknowledgement(Message(clean_hn), ResponseCode.FATAL_ERROR, ids(), AT, issues)
    later = build_acknowledgement(Message(clean_hn), ResponseCode.FATAL_ERROR, ids(), AT + timedelta(hours=1), issues)
    assert later["id"] != first["id"]
    assert Message(later).header["response"]["code"] == Message(first).header["response"]["code"]
    outcome = [Message(b).of_type("OperationOutcome")[0].resource["issue"] for b in (first, later)]
    assert outcome[0] == outcome[1]


def test_refuses_unzoned_time_and_missing_parties(clean_hn: Bundle) -> None:
    with pytest.raises(ValueError, match="zoned"):
        build_acknowledgement(Message(clean_hn), ResponseCode.OK, ids(), datetime(2024, 1, 1))
    del header(clean_hn)["source"]
    with pytest.raises(ValueError, match="source endpoint"):
        build_acknowledgement(Message(clean_hn), ResponseCode.OK, ids(), datetime.now(UTC))


def test_acknowledgements_are_never_acknowledged(clean_hn: Bundle) -> None:
    ack = build_acknowledgement(Message(clean_hn), ResponseCode.OK, ids(), AT)
    with pytest.raises(ValueError, match="never acknowledged"):
        build_acknowledgement(Message(ack), ResponseCode.OK, ids(), AT)
