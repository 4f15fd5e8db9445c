"""APD-DK reading and writing, without a server: the examples, round trips (Hypothesis) and damage."""

from __future__ import annotations

import string
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.errors import BindeledError
from bindeled.overview.apd import (
    ApdAppointment,
    ApdFormatError,
    ApdInvalid,
    Citizen,
    Party,
    PostalAddress,
    References,
    read_apd,
    to_apd,
    to_appointment,
    write_apd,
)
from bindeled.overview.apd.mapping import citizen_of, new_patient, party_of
from bindeled.overview.apd.times import cda_instant, fhir_instant
from tests.overview.apd.world import EXAMPLES, example

CREATED = "2026-01-02T03:04:05+01:00"


def _write(apd: ApdAppointment) -> bytes:
    return write_apd(apd, document_id="6b3f0d6e-1d7c-4c1e-9b8a-0f1e2d3c4b5a", created=CREATED)


def _kept(apd: ApdAppointment) -> ApdAppointment:
    """What a document written by bindeled carries back (the document's own id and time are new)."""
    return replace(apd, document_id=None, created=None, author=None)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_reads_and_survives_writing(name: str) -> None:
    apd = read_apd(example(name))
    assert apd.citizen.cpr == "2512489996"
    again = read_apd(_write(apd))
    assert _kept(again) == _kept(apd)


def test_what_the_examples_say() -> None:
    region = read_apd(example("DK-APD_Example_1_5_apd_region.xml"))
    assert (region.owner_type, region.start, region.end) == (
        "regional",
        "2020-12-07T11:15:00+01:00",
        "2020-12-07T12:30:00+01:00",
    )
    assert (region.reason_snomed, region.reason_text) == ("17436001", "lægekonsultation med ambulant patient")
    assert region.location is not None and region.location.sor == "325441000016006"
    assert region.room == "opgang 4, 3 sal rum 101" and region.custodian.sor == "378631000016009"
    home = read_apd(example("DK-APD_Example_1_4_apd_municipality_a.xml"))
    assert home.location is None and home.time_is_guide and home.guide_text == "Tidspunktet er vejledende"
    assert home.repetition_id == "718a7c0d-bf7d-4162-ba28-e3dd720798eb" and home.performer.phone == "66113333-3"
    open_end = read_apd(example("DK-APD_Example_1_1_apd_minimum.xml"))
    assert open_end.end is None and open_end.performer.phone == "66114545"


def test_the_fhir_mapping_round_trips() -> None:
    apd = replace(read_apd(example("DK-APD_Example_1_4_apd_municipality_a.xml")), legal_basis="SEL-83")
    refs = References("Patient/p", "Organization/o", "Organization/c", None)
    appointment = to_appointment(apd, refs)
    patient = {**new_patient(apd.citizen), "id": "p"}
    back = to_apd(
        appointment, citizen_of(patient), party_of(None, apd.performer.sor), party_of(None, apd.custodian.sor), None
    )
    assert (back.start, back.end, back.owner_type, back.legal_basis, back.repetition_id) == (
        apd.start,
        apd.end,
        "municipal",
        "SEL-83",
        apd.repetition_id,
    )
    assert back.time_is_guide and back.guide_text == apd.guide_text and back.performer.phone == apd.performer.phone
    assert to_appointment(read_apd(_write(back)), refs) == appointment


# -- Hypothesis ---------------------------------------------------------------------------------------

_text = st.text(alphabet=string.ascii_letters + "æøåÆØÅ .,-", min_size=1, max_size=30).map(
    lambda t: " ".join(t.split()) or "x"
)
_sor = st.from_regex(r"[1-9][0-9]{10,17}", fullmatch=True)
_digits = st.from_regex(r"[0-9]{8}", fullmatch=True)


@st.composite
def _instants(draw: st.DrawFn) -> str:
    year, month, day = draw(st.integers(2000, 2099)), draw(st.integers(1, 12)), draw(st.integers(1, 28))
    hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    zone = draw(st.sampled_from(["+01:00", "+02:00", "+00:00", "-03:30"]))
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{zone}"


_address = st.builds(
    PostalAddress,
    lines=st.lists(_text, max_size=2).map(tuple),
    postal_code=st.from_regex(r"[0-9]{4}", fullmatch=True),
    city=_text,
    country=st.none(),
    use=st.none(),
)
_party = st.builds(Party, sor=_sor, name=_text, phone=_digits, email=st.none(), address=_address)


@st.composite
def _appointments(draw: st.DrawFn) -> ApdAppointment:
    start = draw(_instants())
    end = draw(st.one_of(st.none(), st.just(start)))
    guided = draw(st.booleans())
    return ApdAppointment(
        appointment_id=str(draw(st.uuids())),
        owner_type=draw(st.sampled_from(["municipal", "regional", "practice"])),
        start=start,
        end=end,
        citizen=Citizen(
            cpr=draw(
                st.from_regex(r"(0[1-9]|1[0-9]|2[0-8]|6[1-9]|7[0-9]|8[0-8])(0[1-9]|1[0-2])[0-9]{6}", fullmatch=True)
            ),
            given=tuple(draw(st.lists(_text, max_size=2))),
            family=draw(_text),
            gender=draw(st.sampled_from(["female", "male", "unknown"])),
            birth_date="1948-12-25",
            address=draw(_address),
            phone=draw(_digits),
        ),
        performer=draw(_party),
        custodian=draw(_party),
        reason_text=draw(_text),
        reason_snomed=draw(st.one_of(st.none(), st.from_regex(r"[1-9][0-9]{5,9}", fullmatch=True))),
        location=draw(st.one_of(st.none(), _party.map(lambda p: replace(p, name=None, email=None)))),
        room=draw(_text),
        time_is_guide=guided,
        guide_text=draw(_text) if guided else None,
        repetition_id=draw(st.one_of(st.none(), st.uuids().map(str))),
        legal_basis=draw(st.one_of(st.none(), st.sampled_from(["SEL-79a", "SEL-83", "SEL-86"]))),
    )


@settings(max_examples=80, deadline=None)
@given(_appointments())
def test_writing_then_reading_keeps_every_field(apd: ApdAppointment) -> None:
    again = read_apd(_write(apd))
    assert replace(again, document_id=None, created=None, author=None) == apd


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_refused_cleanly(data: bytes) -> None:
    with pytest.raises((ApdFormatError, ApdInvalid)):
        read_apd(data)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 11000), st.binary(min_size=1, max_size=8))
def test_a_damaged_example_is_read_or_refused_with_a_location(position: int, junk: bytes) -> None:
    original = example("DK-APD_Example_1_5_apd_region.xml")
    damaged = original[:position] + junk + original[position + len(junk) :]
    try:
        read_apd(damaged)
    except BindeledError as error:
        assert error.status in (400, 422) and error.location and error.location[0].startswith("/")
        assert "2512489996" not in error.message


@given(_instants())
def test_instants_survive_the_cda_format(value: str) -> None:
    assert fhir_instant(cda_instant(value)) == value


def test_appointment_times_need_minutes_and_a_zone() -> None:
    assert fhir_instant("202012010900+0100") == "2020-12-01T09:00:00+01:00"
    assert fhir_instant("20201201090000Z") == "2020-12-01T09:00:00+00:00"
    for bad in ("20201201", "20201201090000", "20201301090000+0100", "2020120109000+0100"):
        assert fhir_instant(bad) is None
