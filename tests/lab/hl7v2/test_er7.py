"""ER7 parsing and serialising: structure, encoding characters from MSH-2, escapes, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.er7 import Encoding, Field, Message, Segment
from bindeled.lab.hl7v2.errors import ErrorCode, Hl7Error
from tests.lab.messages import oru


def test_fields_components_repetitions_and_subcomponents() -> None:
    message = er7.parse("MSH|^~\\&|A|B\rPID|1||123^^^CPR~456^^^X||Jensen^Anne&Marie\r")
    pid = message.segments[1]
    assert pid.id == "PID"
    assert pid.field(3).repetitions == ((("123",), ("",), ("",), ("CPR",)), (("456",), ("",), ("",), ("X",)))
    assert pid.field(5).component(1) == "Jensen"
    assert pid.field(5).repetitions[0][1] == ("Anne", "Marie")
    assert pid[1] == "1"
    assert pid.field(99).is_empty


def test_msh_numbering_follows_the_standard() -> None:
    msh = er7.parse(oru()).msh
    assert msh[1] == "|"
    assert msh[2] == "^~\\&"
    assert msh[4] == "999000000000011"
    assert msh.field(9).component(2) == "R01"
    assert msh[10] == "MSG0001"


def test_encoding_characters_are_read_from_msh2() -> None:
    text = "MSH#*@!%#A#B\rPID#1##123***CPR@456#x*y%z#a!F!b\r"
    message = er7.parse(text)
    assert message.encoding == Encoding("#", "*", "@", "!", "%")
    pid = message.segments[1]
    assert pid.field(3).repetitions[1] == (("456",),)
    assert pid.field(4).repetitions[0][1] == ("y", "z")
    assert pid[5] == "a#b"
    assert er7.parse(er7.serialise(message)) == message


def test_truncation_character_is_kept() -> None:
    message = er7.parse("MSH|^~\\&#|A\rPID|1\r")
    assert message.encoding.truncation == "#"
    assert er7.serialise(message).startswith("MSH|^~\\&#|A\r")


@pytest.mark.parametrize(
    ("escaped", "plain"),
    [
        ("a\\F\\b", "a|b"),
        ("a\\S\\b\\T\\c\\R\\d\\E\\e", "a^b&c~d\\e"),
        ("line\\.br\\next", "line\nnext"),
        ("\\X0D0A\\", "\r\n"),
        ("\\XC3A6\\", "æ"),
        ("\\XE6\\", "æ"),
        ("\\H\\bold\\N\\", "bold"),
        ("\\Zcustom\\", "\\Zcustom\\"),
        ("unterminated \\F", "unterminated \\F"),
    ],
)
def test_unescape(escaped: str, plain: str) -> None:
    assert er7.unescape(escaped) == plain


def test_escape_separators_and_control_characters() -> None:
    assert er7.escape("a|b^c&d~e\\f\rg") == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X0D\\g"
    assert er7.escape("Sørensen") == "Sørensen"


def test_line_feeds_are_accepted_as_segment_terminators() -> None:
    assert er7.parse(oru().replace("\r", "\r\n")) == er7.parse(oru())
    assert er7.parse(oru().replace("\r", "\n")) == er7.parse(oru())


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("PID|1||123\r", 1),
        ("MSH|^~\\\rPID|1\r", 2),
        ("MSH|^^\\&|A\rPID|1\r", 2),
        ("MSH|^~\\&", 2),
        ("MSH", 1),
        ("MSHa^~\\&a\r", 1),
    ],
)
def test_broken_headers_are_rejected_naming_msh(text: str, field: int) -> None:
    with pytest.raises(Hl7Error) as raised:
        er7.parse(text)
    assert raised.value.reject
    assert raised.value.where.segment_id == "MSH"
    assert raised.value.where.field == field


def test_invalid_segment_id_is_located() -> None:
    with pytest.raises(Hl7Error) as raised:
        er7.parse("MSH|^~\\&|A\rPID|1\rob|2\r")
    assert raised.value.hl7_code is ErrorCode.SEGMENT_SEQUENCE
    assert raised.value.where.segment_id == "ob"


def test_second_msh_is_rejected() -> None:
    with pytest.raises(Hl7Error) as raised:
        er7.parse("MSH|^~\\&|A\rMSH|^~\\&|B\r")
    assert raised.value.where.sequence == 2


# --- property tests ---------------------------------------------------------------------------------

_chars = st.characters(min_codepoint=1, max_codepoint=0x3000, exclude_categories=["Cs"])
_values = st.text(_chars | st.sampled_from(list("|^~\\&#*@!%\r\n\t\x85 æøå")), max_size=8)
_components = st.lists(_values, min_size=1, max_size=3).map(tuple)
_repetitions = st.lists(_components, min_size=1, max_size=3).map(tuple)
_fields = st.lists(_repetitions, min_size=1, max_size=2).map(lambda reps: Field(tuple(reps)))
_segment_ids = st.sampled_from(["PID", "OBR", "OBX", "SPM", "NTE", "ZX9", "PV1"])
_segments = st.builds(Segment, _segment_ids, st.lists(_fields, max_size=6).map(tuple))


@st.composite
def _encodings(draw: st.DrawFn) -> Encoding:
    chars = draw(st.permutations(list("|^~\\&#*@!%")))
    return Encoding(*chars[:5])


@st.composite
def messages(draw: st.DrawFn) -> Message:
    enc = draw(_encodings())
    header = (Field.of(enc.field), Field.of(enc.msh2), *draw(st.lists(_fields, min_size=1, max_size=10)))
    body = draw(st.lists(_segments, max_size=5))
    # A message is stripped of white space at its ends (as receivers do), so it ends with a plain value here.
    segments = (Segment("MSH", tuple(header)), *body, Segment("ZZZ", (Field.of("end"),)))
    return Message(enc, segments)


@settings(max_examples=200, deadline=None)
@given(messages())
def test_round_trip(message: Message) -> None:
    text = er7.serialise(message)
    assert er7.parse(text) == message
    assert er7.serialise(er7.parse(text)) == text


@settings(max_examples=300, deadline=None)
@given(_values)
def test_escape_round_trip(value: str) -> None:
    escaped = er7.escape(value)
    assert not set(escaped) & set("|^~&\r\n")
    assert er7.unescape(escaped) == value


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_hl7error(text: str) -> None:
    try:
        message = er7.parse(text)
    except Hl7Error as error:
        assert error.where.segment_id
    else:
        assert message.segments[0].id == "MSH"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="MSH|^~\\&\r\nPIDOBX123 ", max_size=80))
def test_header_like_text_parses_or_raises_hl7error(text: str) -> None:
    try:
        er7.parse("MSH" + text)
    except Hl7Error as error:
        assert error.where.segment_id
