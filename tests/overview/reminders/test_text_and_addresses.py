"""The reminder text (time, place, organisation, phone — nothing else) and the subscription's address checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.errors import InvalidRequest
from bindeled.overview.appointment_model import AT_HOME, CONTACT_PHONE, TIME_IS_GUIDE
from bindeled.overview.reminders.message import reminder_text
from bindeled.overview.reminders.model import check_address, check_lead

ORGANISATION = {
    "resourceType": "Organization",
    "name": "Hjemmeplejen Midtbyen",
    "telecom": [{"system": "phone", "value": "66113333"}],
}
PLACE = {
    "resourceType": "Location",
    "name": "Regionshospitalet",
    "address": {"line": ["Albanigade 10"], "postalCode": "5000", "city": "Odense C"},
}


def _appointment(*extensions: dict[str, object], room: str | None = None) -> dict[str, object]:
    location = {"reference": "Location/x", **({"display": room} if room else {})}
    return {
        "resourceType": "Appointment",
        "extension": list(extensions),
        "start": "2026-12-01T09:00:00+01:00",
        "reasonCode": [{"text": "Sårpleje efter operation"}],
        "participant": [{"actor": {"reference": "Patient/p"}}, {"actor": location}],
    }


def test_the_text_names_time_place_organisation_and_phone_only() -> None:
    text = reminder_text(_appointment(room="opgang 4"), ORGANISATION, PLACE)
    assert text == (
        "Påmindelse: Du har en aftale tirsdag 1. december 2026 kl. 09.00 med Hjemmeplejen Midtbyen, "
        "Regionshospitalet, opgang 4, Albanigade 10, 5000 Odense C. Spørgsmål eller afbud: tlf. 66113333."
    )
    assert "Sårpleje" not in text


def test_a_home_visit_with_a_guided_time_and_its_own_phone() -> None:
    appointment = _appointment(
        {"url": AT_HOME, "valueBoolean": True},
        {"url": TIME_IS_GUIDE, "valueBoolean": True},
        {"url": CONTACT_PHONE, "valueContactPoint": {"system": "phone", "value": "70101010"}},
    )
    text = reminder_text(appointment, ORGANISATION, None)
    assert "ca. kl. 09.00" in text and "hjemme hos dig" in text and "tlf. 70101010" in text


@given(st.sampled_from(["sms", "email", "fax", ""]), st.text(max_size=40))
def test_addresses_are_normalised_or_refused_with_a_location(channel: str, address: str) -> None:
    try:
        value = check_address(channel, address)
    except InvalidRequest as error:
        assert error.location and error.location[0].startswith("Parameters.parameter(")
        return
    assert channel in ("sms", "email")
    assert value == value.strip() and (channel == "email" or value.lstrip("+").isdigit())


def test_lead_times_are_bounded() -> None:
    assert check_lead(1440) == 1440
    for bad in (0, -5, 15 * 24 * 60):
        with pytest.raises(InvalidRequest):
            check_lead(bad)
