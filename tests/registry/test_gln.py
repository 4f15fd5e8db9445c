"""GS1 check digits for GLNs (EAN location numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.registry.gln import (
    GLN_SYSTEM,
    gln_check_digit,
    is_valid_gln,
    normalise_gln_system,
    with_check_digit,
)

bodies = st.text(alphabet="0123456789", min_size=12, max_size=12)


@pytest.mark.parametrize("gln", ["5790000141227", "5790000173624"])
def test_sample_glns_are_valid(gln: str) -> None:
    assert is_valid_gln(gln)


def test_hand_computed_check_digit() -> None:
    # 5 7 9 0 0 0 0 1 4 1 2 2 weighted 1,3,1,3,…: 5+21+9+0+0+0+0+3+4+3+2+6 = 53 -> (10 - 3) % 10 = 7
    assert gln_check_digit("579000014122") == 7


@pytest.mark.parametrize(
    "bad", ["", "579000014122", "57900001412270", "5790000141228", "57900001412a7", "５７９０００014122７"]
)
def test_invalid_glns(bad: str) -> None:
    assert not is_valid_gln(bad)


def test_check_digit_zero() -> None:
    # 5+21+9+24 = 59 -> (10 - 9) % 10 = 1; so ...0 is wrong and ...1 right
    assert is_valid_gln("5798000000001")
    assert not is_valid_gln("5798000000000")


def test_body_must_be_twelve_digits() -> None:
    with pytest.raises(ValueError, match="12 ASCII digits"):
        gln_check_digit("12345")


@given(bodies)
def test_completed_gln_is_valid(body: str) -> None:
    gln = with_check_digit(body)
    assert len(gln) == 13
    assert is_valid_gln(gln)


@given(bodies, st.integers(0, 12), st.integers(1, 9))
def test_any_single_digit_error_is_caught(body: str, position: int, shift: int) -> None:
    gln = with_check_digit(body)
    wrong = gln[:position] + str((int(gln[position]) + shift) % 10) + gln[position + 1 :]
    assert not is_valid_gln(wrong)


@given(bodies, st.integers(0, 10))
def test_adjacent_transposition_of_digits_differing_by_other_than_five_is_caught(body: str, position: int) -> None:
    gln = with_check_digit(body)
    a, b = gln[position], gln[position + 1]
    swapped = gln[:position] + b + a + gln[position + 2 :]
    if a != b and abs(int(a) - int(b)) != 5:
        assert not is_valid_gln(swapped)


def test_system_aliases() -> None:
    assert normalise_gln_system("urn:oid:1.3.88") == GLN_SYSTEM
    assert normalise_gln_system(GLN_SYSTEM) == GLN_SYSTEM
    assert normalise_gln_system("urn:oid:1.2.208.176.1.1") is None
