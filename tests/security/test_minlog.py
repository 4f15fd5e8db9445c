"""MinLog: one entry per citizen per request, name protection in citizens' views."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.security import MinLogCollector, Principal, minlog_audit_event, minlog_view

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NURSE = Principal(
    "hcp",
    "u-n",
    full_name="Nanna Demo Sygeplejerske",
    role="nurse",
    organisation_sor="900000000000301",
    organisation_name="Hjemmesygeplejen",
    system_name="DemoCare",
    purpose="ESP_PLANS",
    responsible_user="u-doc",
)


def test_many_resources_of_one_citizen_are_one_entry() -> None:
    collector = MinLogCollector(NURSE, "corr-1")
    for kind in ("CarePlan", "Goal", "CarePlan"):
        collector.add("6101709995", "search", kind)
    collector.add("0303801234", "read", "CarePlan")
    collector.add("6101709995", "update", "CarePlan")
    entries = collector.entries(NOW)
    assert len(collector) == 3
    assert [(e.citizen, e.activity, e.resource_types) for e in entries] == [
        ("6101709995", "read", ("CarePlan", "Goal")),
        ("0303801234", "read", ("CarePlan",)),
        ("6101709995", "update", ("CarePlan",)),
    ]
    first = entries[0]
    assert (first.user_full_name, first.user_role, first.organisation_sor, first.purpose, first.correlation_id) == (
        "Nanna Demo Sygeplejerske",
        "nurse",
        "900000000000301",
        "ESP_PLANS",
        "corr-1",
    )
    assert first.responsible_user == "u-doc"


def test_a_name_protected_user_shows_role_and_organisation_only() -> None:
    entry = MinLogCollector(replace(NURSE, name_protected=True), "c")
    entry.add("6101709995", "read", "CarePlan")
    (found,) = entry.entries(NOW)
    view = minlog_view(found)
    assert "user" not in view and "responsibleUser" not in view
    assert view["role"] == "nurse" and view["organisation"]["sor"] == "900000000000301"
    assert "Nanna" not in str(view)
    assert minlog_view(found, full_names=True)["user"]["name"] == "Nanna Demo Sygeplejerske"
    assert minlog_view(found)["time"] == "2026-03-02T10:00:00.000000+00:00"


def test_entries_need_a_zoned_time() -> None:
    collector = MinLogCollector(NURSE, "c")
    collector.add("6101709995", "read", "CarePlan")
    with pytest.raises(ValueError, match="timezone"):
        collector.entries(datetime(2026, 1, 1))


def test_an_entry_as_the_citizen_s_audit_event(definitions: Definitions) -> None:
    collector = MinLogCollector(replace(NURSE, emergency_reason="not_contactable"), "corr-9")
    collector.add("6101709995", "read", "CarePlan")
    (entry,) = collector.entries(NOW)
    event = minlog_audit_event(entry)
    assert (event["action"], event["recorded"]) == ("R", "2026-03-02T10:00:00+00:00")
    assert event["agent"][0]["who"]["display"] == "Nanna Demo Sygeplejerske"
    assert event["agent"][0]["location"]["display"] == "Hjemmesygeplejen"
    assert {"type": "emergencyReason", "valueString": "not_contactable"} in event["entity"][0]["detail"]
    assert [p["coding"][0]["code"] for p in event["purposeOfEvent"]] == ["ESP_PLANS", "ETREAT"]
    issues = Validator(definitions).validate(event)
    assert not [i for i in issues if i.is_error], issues
    hidden = minlog_audit_event(replace(entry, name_protected=True))
    assert "who" not in hidden["agent"][0] and "Nanna" not in str(hidden)
