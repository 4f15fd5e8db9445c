"""AuditEvents per IHE BALP, and the hash chain: any changed, removed or reordered record is found."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.security import ChainState, Principal, build_audit_event, parse_scopes, verify_records
from bindeled.security.audit import GENESIS_HASH, AuditRecord, format_instant, link

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DOCTOR = Principal(
    "hcp",
    "u-doc",
    full_name="Henrik Demo Overlæge",
    role="doctor",
    organisation_sor="900000000000212",
    system_name="DemoSP",
    purpose="ESP_APPOINTMENTS",
    scopes=parse_scopes("user/*.rs"),
)


def chain(n: int) -> tuple[list[AuditRecord], ChainState]:
    records: list[AuditRecord] = []
    seq, prev = 0, GENESIS_HASH
    for i in range(n):
        event = build_audit_event(interaction="read", recorded=T0 + timedelta(seconds=i), outcome="0", principal=DOCTOR)
        record = link(seq, prev, event, T0 + timedelta(seconds=i))
        records.append(record)
        seq, prev = record.seq, record.hash
    return records, ChainState(0, GENESIS_HASH, seq, prev)


def test_a_balp_audit_event_holds_no_personal_free_text() -> None:
    event = build_audit_event(
        interaction="search",
        recorded=T0,
        outcome="4",
        principal=DOCTOR,
        reason="no_trust_agreement",
        resource_type="Appointment",
        patients=["Patient/carl"],
        request_id="req-7",
    )
    assert event["type"]["code"] == "rest"
    assert event["subtype"][0] == {"system": "http://hl7.org/fhir/restful-interaction", "code": "search-type"}
    assert (event["action"], event["outcome"], event["outcomeDesc"]) == ("E", "4", "no_trust_agreement")
    assert event["recorded"] == "2026-03-01T08:00:00.000000+00:00"
    user = event["agent"][0]
    assert user["requestor"] is True and user["who"]["identifier"]["value"] == "u-doc"
    assert user["location"]["identifier"]["value"] == "900000000000212"
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "ESP_APPOINTMENTS"
    assert {"reference": "Patient/carl"} in [e["what"] for e in event["entity"]]
    assert "Henrik" not in str(event)


def test_an_event_without_a_principal_has_only_the_server_agent() -> None:
    event = build_audit_event(interaction="read", recorded=T0, outcome="4", principal=None, reason="invalid_token")
    assert [a["who"] for a in event["agent"]] == [{"display": "bindeled"}]
    assert event["action"] == "R"


def test_an_untouched_chain_verifies() -> None:
    records, state = chain(5)
    result = verify_records(records, state)
    assert (result.ok, result.checked) == (True, 5)


def test_a_changed_record_is_pinpointed() -> None:
    records, state = chain(5)
    tampered = records[2].body.replace(b'"outcome":"0"', b'"outcome":"4"')
    records[2] = replace(records[2], body=tampered)
    result = verify_records(records, state)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 3, "changed")


def test_a_changed_record_with_a_recomputed_hash_breaks_the_next_link() -> None:
    from bindeled.security.audit import chain_hash

    records, state = chain(5)
    body = records[1].body.replace(b'"outcome":"0"', b'"outcome":"8"')
    records[1] = replace(records[1], body=body, hash=chain_hash(2, records[1].recorded, records[1].prev_hash, body))
    result = verify_records(records, state)
    assert (result.first_bad_seq, result.problem) == (3, "reordered")


def test_a_removed_record_is_pinpointed() -> None:
    records, state = chain(5)
    del records[1]
    result = verify_records(records, state)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 3, "removed")


def test_reordered_records_are_pinpointed() -> None:
    records, state = chain(5)
    records[1], records[2] = records[2], records[1]
    result = verify_records(records, state)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 3, "reordered")


def test_removing_the_last_records_is_caught_by_the_head() -> None:
    records, state = chain(5)
    result = verify_records(records[:3], state)
    assert (result.ok, result.problem, result.checked) == (False, "truncated", 3)


def test_a_purged_front_verifies_from_its_anchor() -> None:
    records, state = chain(5)
    anchored = replace(state, anchor_seq=2, anchor_hash=records[1].hash)
    assert verify_records(records[2:], anchored).ok
    assert not verify_records(records[3:], anchored).ok


def test_audit_times_must_be_zoned() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_instant(datetime(2026, 1, 1))


def test_audit_events_are_valid_r4(definitions: Definitions) -> None:
    validator = Validator(definitions)
    events = [
        build_audit_event(
            interaction="search",
            recorded=T0,
            outcome="0",
            principal=DOCTOR,
            resource_type="Appointment",
            patients=["Patient/carl"],
            request_id="req-1",
        ),
        build_audit_event(
            interaction="create", recorded=T0, outcome="0", principal=DOCTOR, resources=["Appointment/a"]
        ),
        build_audit_event(interaction="read", recorded=T0, outcome="4", principal=None, reason="invalid_token"),
        build_audit_event(
            interaction="read", recorded=T0, outcome="0", principal=replace(DOCTOR, emergency_reason="not_contactable")
        ),
    ]
    for event in events:
        errors = [i for i in validator.validate(event) if i.is_error]
        assert errors == []
