"""Masking a quarantined message for platform operators: no identifying value survives, structure does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bindeled.lab.masking import MASK, masked_message
from tests.lab.messages import CPR, oru


def test_identifying_fields_are_masked_and_the_rest_kept() -> None:
    text = masked_message(oru().encode())
    assert CPR not in text and "Jensen" not in text and "19800101" not in text
    assert text.splitlines()[0] == oru().split("\r")[0]
    assert "OBX|2|SN|CLO^Cloxacillin^L|1|<=^0.25|mg/L||S" in text


def test_a_message_that_does_not_parse_is_still_masked() -> None:
    raw = b"garbage\nPID#1##0101801234\r\nPID|1||0101801234^^^CPR||Hansen^Bo\xff"
    text = masked_message(raw)
    assert "Hansen" not in text
    assert f"PID|1||{MASK}||{MASK}" in text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_masking_never_fails_and_never_keeps_a_pid_name(noise: str) -> None:
    name = "Zyxwvutsrq"
    raw = f"MSH|^~\\&|A\rPID|1||123||{name}^{noise.replace('|', '')}\r{noise}".encode()
    assert name not in masked_message(raw).split("\r")[1]
