"""MLLP framing: frames split anywhere, garbage between frames, oversized and abandoned frames."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.lab.hl7v2.mllp import END_BLOCK, START_BLOCK, FrameDecoder, Oversized, frame


def test_frame_wraps_payload() -> None:
    assert frame(b"MSH|x") == b"\x0bMSH|x\x1c\x0d"


def test_frames_split_at_every_position() -> None:
    stream = frame(b"first") + frame(b"second\x1cinside")
    for cut in range(len(stream) + 1):
        decoder = FrameDecoder()
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == [b"first", b"second\x1cinside"]


def test_garbage_between_frames_is_discarded_and_counted() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"noise" + frame(b"a") + b"\r\n" + frame(b"b")) == [b"a", b"b"]
    assert decoder.discarded == 7


def test_end_block_split_across_reads() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x0bpayload\x1c") == []
    assert decoder.feed(b"\x0d") == [b"payload"]


def test_lone_file_separator_is_data() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x0bab\x1c") == []
    assert decoder.feed(b"cd\x1c\x0d") == [b"ab\x1ccd"]


def test_oversized_frame_is_skipped_with_its_prefix_kept() -> None:
    decoder = FrameDecoder(max_frame=10)
    items = decoder.feed(b"\x0b" + b"x" * 8) + decoder.feed(b"y" * 50 + END_BLOCK) + decoder.feed(frame(b"ok"))
    assert items == [Oversized(b"x" * 8 + b"y" * 50, 58), b"ok"]


def test_new_start_block_abandons_an_unfinished_frame() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x0bhalf a mess" + frame(b"whole")) == [b"whole"]
    assert decoder.discarded == len(b"half a mess")


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=40).filter(lambda b: START_BLOCK not in b and END_BLOCK not in b), max_size=5),
    garbage=st.binary(max_size=10).map(lambda b: b.replace(START_BLOCK, b"")),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_any_chunking_yields_the_same_frames(payloads: list[bytes], garbage: bytes, cuts: list[int]) -> None:
    stream = b"".join(garbage + frame(p) for p in payloads)
    decoder = FrameDecoder()
    bounds = [0, *sorted(c % (len(stream) + 1) for c in cuts), len(stream)]
    frames = [item for a, b in itertools.pairwise(bounds) for item in decoder.feed(stream[a:b])]
    assert frames == payloads
