"""``$process-message`` over HTTP: acknowledgements, validation, duplicates, routing, the door's policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.messaging.acknowledgement import ACK_ISSUE_SYSTEM
from bindeled.messaging.messages import Message
from bindeled.messaging.profiles import ValidatorPool, message_type
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from tests.api.conftest import LiveServer
from tests.api.messaging._hub import (
    ACK,
    CC_RECEIVER,
    CC_SENDER,
    HN,
    HN_DISCHARGE_EXAMPLE,
    HN_EXAMPLE,
    HOSPITAL,
    MUNICIPALITY,
    XML,
    ack_header,
    ack_issue_codes,
    ack_issue_paths,
    clean_cc,
    clean_hn,
    example,
    fresh,
    gln_with_check_digit,
    hops,
    new_envelope,
    post,
    register_endpoint,
    register_unit,
)
from tests.messaging._defects import defect_of
from tests.messaging._mutate import header, receiver_index, resource, sender_index, set_identifier

Sender = Callable[..., httpx.Client]
GLN = "https://www.gs1.org/gln"
SOR = "urn:oid:1.2.208.176.1.1"


def _ack(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert body["resourceType"] == "Bundle"
    return body


def _profile_errors(ack: dict[str, object], pool: ValidatorPool) -> list[str]:
    kind = message_type(ACK)
    issues = pool.for_type(kind).validate(ack, [kind.bundle_profile])
    return [f"{i.expression} {i.diagnostics}" for i in issues if i.is_error and defect_of(i) is None]


@pytest.mark.parametrize("xml", [False, True], ids=["json", "xml"])
def test_a_valid_hospital_notification_is_acknowledged_ok(
    xml: bool, as_sender: Sender, definitions: Definitions, ack_pool: ValidatorPool
) -> None:
    bundle = fresh(clean_hn(definitions))
    ack = _ack(post(as_sender(HOSPITAL[0]), bundle, definitions, xml=xml))
    head = ack_header(ack)
    assert head["response"] == {"identifier": bundle["entry"][0]["resource"]["id"], "code": "ok"}
    assert head["destination"][0]["endpoint"] == header(bundle)["source"]["endpoint"]
    assert _profile_errors(ack, ack_pool) == []
    answered = Message(ack)
    assert answered.primary_receiver is not None and answered.primary_receiver.sor == HOSPITAL[0]
    assert answered.sender is not None and answered.sender.sor == MUNICIPALITY[0]
    assert [p.activity for p in answered.provenances][-1] == "acknowledgement"


def test_an_xml_answer_when_asked_for(as_sender: Sender, definitions: Definitions) -> None:
    client = as_sender(HOSPITAL[0])
    response = client.post(
        "/$process-message",
        content=jsonio.encode(fresh(clean_hn(definitions))),
        headers={"Content-Type": "application/fhir+json", "Accept": XML},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(XML)
    assert b"<Bundle" in response.content and b'value="ok"' in response.content


def test_a_valid_care_communication_is_acknowledged_ok(as_sender: Sender, definitions: Definitions) -> None:
    bundle = fresh(clean_cc(definitions))
    ack = _ack(post(as_sender(CC_SENDER[0]), bundle, definitions, xml=True))
    assert ack_header(ack)["response"]["code"] == "ok"


@pytest.mark.parametrize(
    ("name", "paths"),
    [
        (
            HN_EXAMPLE,
            {"Bundle.entry[1].resource.id", "Bundle.entry[3].resource.id", "Bundle.entry[4].resource.id"},
        ),
        (HN_DISCHARGE_EXAMPLE, {"Bundle.entry[0].resource.id", "Bundle.entry[5].resource.agent[0].who.reference"}),
    ],
)
def test_official_examples_fail_where_their_defects_are(
    name: str, paths: set[str], as_sender: Sender, definitions: Definitions, ack_pool: ValidatorPool
) -> None:
    bundle = example(name, definitions)
    bundle["id"] = fresh(bundle)["id"]  # a new envelope; the letter id is the example's own
    response = post(as_sender(HOSPITAL[0]), bundle, definitions)
    ack = _ack(response)
    if ack_header(ack)["response"]["code"] == "ok":  # pragma: no cover - would be a bug
        pytest.fail("a defective example was acknowledged ok")
    assert ack_header(ack)["response"]["code"] == "fatal-error"
    assert paths <= ack_issue_paths(ack)
    assert _profile_errors(ack, ack_pool) == []


def test_a_pre_release_care_communication_is_refused_as_unknown_type(
    as_sender: Sender, definitions: Definitions
) -> None:
    bundle = fresh(example("carecommunication/Flow1-CareCommunication_Ex_from_OIOXML.xml", definitions))
    ack = _ack(post(as_sender(header_sender_sor(bundle)), bundle, definitions))
    assert ack_header(ack)["response"]["code"] == "fatal-error"
    assert "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE" in ack_issue_codes(ack)


def header_sender_sor(bundle: dict[str, object]) -> str:
    message = Message(bundle)  # type: ignore[arg-type]
    assert message.sender is not None and message.sender.sor is not None
    return message.sender.sor


@pytest.mark.parametrize("xml", [False, True], ids=["json", "xml"])
def test_an_invalid_message_goes_no_further(
    xml: bool, as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    bundle = fresh(clean_hn(definitions))
    del resource(bundle, "Patient")["identifier"]  # no CPR
    ack = _ack(post(as_sender(HOSPITAL[0]), bundle, definitions, xml=xml))
    assert ack_header(ack)["response"]["code"] == "fatal-error"
    assert hops(client, bundle["entry"][0]["resource"]["id"]) == ["received", "refused", "acknowledged"]


def test_hops_of_a_valid_letter(as_sender: Sender, client: httpx.Client, definitions: Definitions) -> None:
    bundle = fresh(clean_hn(definitions))
    _ack(post(as_sender(HOSPITAL[0]), bundle, definitions))
    assert hops(client, bundle["entry"][0]["resource"]["id"])[:3] == ["received", "validated", "acknowledged"]


# -- duplicates ---------------------------------------------------------------------------------------


def test_the_same_envelope_again_gets_the_original_acknowledgement(as_sender: Sender, definitions: Definitions) -> None:
    client = as_sender(HOSPITAL[0])
    bundle = fresh(clean_hn(definitions))
    first = _ack(post(client, bundle, definitions))
    again = _ack(post(client, bundle, definitions, xml=True))
    assert again == first


@pytest.mark.parametrize("first_xml", [False, True], ids=["json-first", "xml-first"])
def test_a_new_envelope_of_a_known_letter_gets_the_same_answer_anew(
    first_xml: bool, as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    sender = as_sender(HOSPITAL[0])
    bundle = fresh(clean_hn(definitions))
    first = _ack(post(sender, bundle, definitions, xml=first_xml))
    second = _ack(post(sender, new_envelope(bundle), definitions))
    assert second["id"] != first["id"]
    assert ack_header(second)["response"] == ack_header(first)["response"]
    letter = bundle["entry"][0]["resource"]["id"]
    assert hops(client, letter).count("validated") == 1  # processed (and queued for delivery) once


def test_never_ok_for_one_copy_and_an_error_for_another(as_sender: Sender, definitions: Definitions) -> None:
    sender = as_sender(HOSPITAL[0])
    broken = fresh(clean_hn(definitions))
    good_copy = new_envelope(broken)
    del resource(broken, "Patient")["identifier"]
    first = _ack(post(sender, broken, definitions))
    second = _ack(post(sender, good_copy, definitions))
    assert ack_header(first)["response"]["code"] == ack_header(second)["response"]["code"] == "fatal-error"
    assert ack_issue_paths(first) == ack_issue_paths(second)


def test_a_reused_envelope_with_a_new_letter_is_rejected(as_sender: Sender, definitions: Definitions) -> None:
    sender = as_sender(HOSPITAL[0])
    bundle = fresh(clean_hn(definitions))
    _ack(post(sender, bundle, definitions))
    other = fresh(clean_hn(definitions))
    other["id"] = bundle["id"]
    ack = _ack(post(sender, other, definitions))
    assert ack_header(ack)["response"]["code"] == "fatal-error"
    assert "MSG_DUPLICATE_ID" in ack_issue_codes(ack)


# -- routing ------------------------------------------------------------------------------------------


def _addressed_to(bundle: dict[str, object], sor: str, gln: str) -> dict[str, object]:
    receiver = bundle["entry"][receiver_index(bundle)]["resource"]  # type: ignore[index]
    set_identifier(receiver, SOR, sor)
    set_identifier(receiver, GLN, gln)
    return bundle


@pytest.mark.parametrize("xml", [False, True], ids=["json", "xml"])
def test_an_unknown_receiver_is_refused_with_medcoms_code(
    xml: bool, as_sender: Sender, definitions: Definitions
) -> None:
    bundle = _addressed_to(fresh(clean_hn(definitions)), "999999999999991", gln_with_check_digit("579000099999"))
    ack = _ack(post(as_sender(HOSPITAL[0]), bundle, definitions, xml=xml))
    assert ack_header(ack)["response"]["code"] == "fatal-error"
    assert ack_issue_codes(ack) == {"MSG_Receiver_Identifier_UNKNOWN"}
    outcome = next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
    assert outcome["issue"][0]["details"]["coding"][0]["system"] == ACK_ISSUE_SYSTEM


def test_a_gln_that_is_not_the_units_is_refused(as_sender: Sender, definitions: Definitions) -> None:
    bundle = _addressed_to(fresh(clean_hn(definitions)), MUNICIPALITY[0], CC_RECEIVER[1])
    ack = _ack(post(as_sender(HOSPITAL[0]), bundle, definitions))
    assert ack_issue_codes(ack) == {"MSG_Receiver_Identifier_UNKNOWN"}


def test_a_receiver_without_an_endpoint_is_refused(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    sor, gln = "999999999999992", gln_with_check_digit("579000099998")
    register_unit(client, sor, gln)
    ack = _ack(post(as_sender(HOSPITAL[0]), _addressed_to(fresh(clean_hn(definitions)), sor, gln), definitions))
    assert ack_issue_codes(ack) == {"MSG_Receiver_Identifier_UNKNOWN"}


def test_a_type_the_receiver_does_not_accept_is_refused(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    sor, gln = "999999999999993", gln_with_check_digit("579000099997")
    register_unit(client, sor, gln)
    register_endpoint(client, sor, gln, {(HN, "2.0"), ("care-communication-message", "5.0")})
    ack = _ack(post(as_sender(HOSPITAL[0]), _addressed_to(fresh(clean_hn(definitions)), sor, gln), definitions))
    assert ack_issue_codes(ack) == {"MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"}


def test_a_unit_without_its_own_gln_receives_at_its_parents(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    parent, child, gln = "999999999999994", "999999999999995", gln_with_check_digit("579000099996")
    register_unit(client, parent, gln)
    org = client.get(f"/Organization/sor-{parent}").json()
    register_unit(client, child, None, part_of=parent)
    child_org = client.get(f"/Organization/sor-{child}").json()
    child_org["endpoint"] = [{"reference": f"Endpoint/gln-{gln}"}]
    assert client.put(f"/Organization/sor-{child}", json=child_org).status_code == 200
    register_endpoint(client, parent, gln, {(HN, "3.0")})
    assert org["id"] == f"sor-{parent}"
    ack = _ack(post(as_sender(HOSPITAL[0]), _addressed_to(fresh(clean_hn(definitions)), child, gln), definitions))
    assert ack_header(ack)["response"]["code"] == "ok"


# -- who may send -------------------------------------------------------------------------------------


def test_a_sender_may_not_send_as_another_organisation(as_sender: Sender, definitions: Definitions) -> None:
    bundle = fresh(clean_hn(definitions))
    response = post(as_sender(CC_SENDER[0]), bundle, definitions)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_sender_may_send_for_a_unit_below_it(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    region = "999999999999996"
    register_unit(client, region, None)
    register_unit(client, HOSPITAL[0], HOSPITAL[1], part_of=region)
    ack = _ack(post(as_sender(region), fresh(clean_hn(definitions)), definitions))
    assert ack_header(ack)["response"]["code"] == "ok"


def test_the_purpose_must_be_messaging(as_sender: Sender, definitions: Definitions) -> None:
    response = post(as_sender(HOSPITAL[0], purpose="SJ_READ"), fresh(clean_hn(definitions)), definitions)
    assert response.status_code == 403


def test_a_read_only_system_may_not_send(as_sender: Sender, definitions: Definitions) -> None:
    response = post(as_sender(HOSPITAL[0], scope="system/*.rs"), fresh(clean_hn(definitions)), definitions)
    assert response.status_code == 403


def _staff_client(server: LiveServer, username: str, sor: str | None) -> httpx.Client:
    user = demo_user(username)
    if sor is not None:
        user = user.at(sor, "Test unit")
    issuer = LocalIssuer(Path(server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    token = issuer.mint(user, now=datetime.now(UTC), purpose="MESSAGING" if sor else None)
    return httpx.Client(base_url=server.base, timeout=120, headers={"Authorization": f"Bearer {token}"})


def test_a_staff_member_working_in_a_system_may_send_for_their_unit(
    server: LiveServer, hub_register: None, definitions: Definitions
) -> None:
    with _staff_client(server, "doctor", HOSPITAL[0]) as doctor:
        ack = _ack(post(doctor, fresh(clean_hn(definitions)), definitions))
    assert ack_header(ack)["response"]["code"] == "ok"


def test_citizens_may_not_send(server: LiveServer, hub_register: None, definitions: Definitions) -> None:
    with _staff_client(server, "citizen", None) as citizen:
        assert post(citizen, fresh(clean_hn(definitions)), definitions).status_code == 403


def test_anonymous_callers_are_refused(anonymous: httpx.Client, definitions: Definitions) -> None:
    assert post(anonymous, fresh(clean_hn(definitions)), definitions).status_code == 401


# -- what is not a message ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"resourceType": "Patient"}',
        b'{"resourceType": "Bundle", "type": "collection"}',
        b'{"resourceType": "Bundle", "type": "message", "entry": [{"resource": {"resourceType": "Patient"}}]}',
        b"{not json",
        b"[1, 2]",
        b'{"resourceType": "Bundle", "type": "message", "id": "e", "entry": [{"fullUrl": ["x"], "resource":'
        b' {"resourceType": "MessageHeader", "id": "h", "sender": {"reference": "Organization/1"}}}]}',
    ],
)
def test_what_is_not_a_message_is_a_400(body: bytes, as_sender: Sender) -> None:
    response = as_sender(HOSPITAL[0]).post(
        "/$process-message", content=body, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_message_that_cannot_be_answered_is_a_422(
    as_sender: Sender, client: httpx.Client, definitions: Definitions
) -> None:
    bundle = fresh(clean_hn(definitions))
    set_identifier(bundle["entry"][sender_index(bundle)]["resource"], GLN, None)  # the answer has no address
    response = post(as_sender(HOSPITAL[0]), bundle, definitions)
    assert response.status_code == 422
    status = client.get("/$message-status", params={"message": bundle["entry"][0]["resource"]["id"]})
    assert status.status_code == 404  # nothing was stored
