"""The 18 HospitalNotification events: each builds, passes the rules, and is read back as itself."""

from __future__ import annotations

from typing import Any

import pytest

from bindeled.messaging.conformance import check_message
from bindeled.messaging.hospital_notification import LEAVE_PERIOD_URL, RULES, Action, Event, read_notification
from bindeled.messaging.messages import Message

from ._mutate import Bundle, resource

EARLIER = "MessageHeader/0c9f3b2a-1d4e-4f5a-8b6c-7d8e9f0a1b2c"

# event code → (activity, class, status, end?, leave, deceased)
CASES: dict[str, tuple[str, str, str, bool, dict[str, str] | None, bool | None]] = {
    "STAA": ("admit-emergency", "EMER", "in-progress", False, None, None),
    "RE_STAA": ("revise-admit-emergency", "EMER", "in-progress", False, None, None),
    "AN_STAA": ("cancel-admit-emergency", "EMER", "entered-in-error", False, None, None),
    "STIN": ("admit-inpatient", "IMP", "in-progress", False, None, None),
    "RE_STIN": ("revise-admit-inpatient", "IMP", "in-progress", False, None, None),
    "AN_STIN": ("cancel-admit-inpatient", "IMP", "entered-in-error", False, None, None),
    "STOR": ("start-leave-inpatient", "IMP", "onleave", False, {"start": "2022-12-09T08:00:00+01:00"}, None),
    "RE_STOR": ("revise-start-leave-inpatient", "IMP", "onleave", False, {"start": "2022-12-09T09:00:00+01:00"}, None),
    "AN_STOR": ("cancel-start-leave-inpatient", "IMP", "in-progress", False, None, None),
    "SLOR": (
        "end-leave-inpatient",
        "IMP",
        "in-progress",
        False,
        {"start": "2022-12-09T08:00:00+01:00", "end": "2022-12-10T08:00:00+01:00"},
        None,
    ),
    "RE_SLOR": (
        "revise-end-leave-inpatient",
        "IMP",
        "in-progress",
        False,
        {"start": "2022-12-09T08:00:00+01:00", "end": "2022-12-10T09:00:00+01:00"},
        None,
    ),
    "AN_SLOR": ("cancel-end-leave-inpatient", "IMP", "onleave", False, {"start": "2022-12-09T08:00:00+01:00"}, None),
    "SLHJ": ("discharge-inpatient-home", "IMP", "finished", True, None, None),
    "RE_SLHJ": ("revise-discharge-emergency-home", "EMER", "finished", True, None, None),
    "AN_SLHJ": ("cancel-discharge-inpatient-home", "IMP", "in-progress", False, None, None),
    "MORS": ("admit-inpatient", "IMP", "finished", True, None, True),
    "RE_MORS": ("revise-discharge-inpatient-home", "IMP", "finished", True, None, True),
    "AN_MORS": ("discharge-inpatient-home", "IMP", "in-progress", False, None, False),
}


def build(bundle: Bundle, code: str) -> Bundle:
    activity, klass, status, end, leave, deceased = CASES[code]
    provenance = resource(bundle, "Provenance", -1)
    provenance["activity"]["coding"][0]["code"] = activity
    if code not in ("STIN", "STAA"):  # reportOfAdmission is only flagged on an initial admission
        header = resource(bundle, "MessageHeader")
        header["extension"] = [e for e in header["extension"] if not e["url"].endswith("reportOfAdmissionExtension")]
    if activity.startswith(("revise-", "cancel-")) or code.startswith(("RE_", "AN_")):
        role = "removal" if code.startswith("AN_") else "revision"
        provenance["entity"] = [{"role": role, "what": {"reference": EARLIER}}]
    encounter = resource(bundle, "Encounter")
    encounter["class"]["code"] = klass
    encounter["status"] = status
    if end:
        encounter["period"]["end"] = "2022-12-18T09:45:30+01:00"
    if leave:
        encounter["extension"] = [{"url": LEAVE_PERIOD_URL, "valuePeriod": leave}]
    if deceased is not None:
        resource(bundle, "Patient")["deceasedBoolean"] = deceased
    return bundle


def test_the_table_has_eighteen_events() -> None:
    assert len(RULES) == len(CASES) == 18


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_event_passes_and_reads_back(code: str, clean_hn: Bundle) -> None:
    message = Message(build(clean_hn, code))
    assert check_message(message) == []
    note = read_notification(message)
    assert note is not None
    assert note.code == code
    assert note.replaces == (EARLIER if code[:3] in ("RE_", "AN_") else None)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_event_rejects_every_other_status(code: str, clean_hn: Bundle) -> None:
    note = read_notification(Message(build(clean_hn, code)))
    assert note is not None
    for status in {"in-progress", "onleave", "finished", "entered-in-error"} - RULES[
        (note.event, note.action)
    ].statuses:
        bundle = build(_fresh(clean_hn), code)
        resource(bundle, "Encounter")["status"] = status
        codes = {i.details_code for i in check_message(Message(bundle))}
        assert "MEDCOM-HN-CLASS-STATUS" in codes, status


def _fresh(bundle: Bundle) -> Bundle:
    import copy

    return copy.deepcopy(bundle)


def test_event_times(clean_hn: Bundle) -> None:
    def at(code: str) -> Any:
        note = read_notification(Message(build(_fresh(clean_hn), code)))
        assert note is not None
        return note.at

    assert at("STIN") == "2022-12-07T12:00:00+02:00"
    assert at("STOR") == "2022-12-09T08:00:00+01:00"
    assert at("SLOR") == "2022-12-10T08:00:00+01:00"
    assert at("SLHJ") == at("MORS") == "2022-12-18T09:45:30+01:00"


def test_non_hospital_activity_is_not_an_event(clean_hn: Bundle) -> None:
    resource(clean_hn, "Provenance", -1)["activity"]["coding"][0]["code"] = "new-message"
    assert read_notification(Message(clean_hn)) is None


def test_event_enum_and_actions() -> None:
    assert {e.value for e in Event} == {"STAA", "STIN", "STOR", "SLOR", "SLHJ", "MORS"}
    assert {(e, a) for e in Event for a in Action} == set(RULES)
