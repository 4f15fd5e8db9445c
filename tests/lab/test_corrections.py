"""Supersede rules: preliminary → final → corrected, late arrivals, duplicates, order independence."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bindeled.lab.corrections import Outcome, Version, decide, sort_key

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def v(status: str, hours: int, control_id: str) -> Version:
    return Version(status, T0 + timedelta(hours=hours), control_id)


def test_first_version_is_current() -> None:
    assert decide(None, v("preliminary", 0, "a")) is Outcome.CURRENT


@pytest.mark.parametrize(
    ("current", "incoming", "outcome"),
    [
        (v("preliminary", 0, "a"), v("final", 1, "b"), Outcome.CURRENT),
        (v("final", 1, "b"), v("corrected", 2, "c"), Outcome.CURRENT),
        (v("corrected", 2, "c"), v("corrected", 3, "d"), Outcome.CURRENT),
        (v("final", 1, "b"), v("preliminary", 0, "a"), Outcome.HISTORY),  # late, older
        (v("final", 1, "b"), v("preliminary", 5, "x"), Outcome.HISTORY),  # later but lower status
        (v("corrected", 2, "c"), v("final", 1, "b"), Outcome.HISTORY),
        (v("corrected", 3, "d"), v("corrected", 2, "c"), Outcome.HISTORY),
        (v("final", 1, "b"), v("final", 1, "b"), Outcome.DUPLICATE),
    ],
)
def test_decide(current: Version, incoming: Version, outcome: Outcome) -> None:
    assert decide(current, incoming) is outcome


def test_seen_before_is_a_duplicate() -> None:
    assert decide(v("final", 1, "b"), v("corrected", 2, "c"), seen_before=True) is Outcome.DUPLICATE


def test_unknown_status_never_displaces_a_known_one() -> None:
    assert decide(v("registered", 0, "a"), v("bogus", 9, "z")) is Outcome.HISTORY


_versions = st.builds(
    v,
    st.sampled_from(["registered", "preliminary", "partial", "final", "corrected", "amended"]),
    st.integers(0, 5),
    st.text("abcdef", min_size=1, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_versions, min_size=1, max_size=8, unique_by=lambda x: x.control_id), st.randoms())
def test_current_is_the_same_whatever_the_arrival_order(versions: list[Version], rnd: random.Random) -> None:
    def run(order: list[Version]) -> Version:
        current: Version | None = None
        for version in order:
            if decide(current, version) is Outcome.CURRENT:
                current = version
        assert current is not None
        return current

    shuffled = list(versions)
    rnd.shuffle(shuffled)
    assert run(versions) == run(shuffled) == max(versions, key=sort_key)
