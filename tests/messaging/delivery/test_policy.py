"""The delivery rules in numbers: settings, back-off, and a resend's new envelope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.config import Settings
from bindeled.messaging.delivery.policy import DeliveryPolicy
from bindeled.messaging.delivery.queue import new_envelope
from tests.messaging.delivery.conftest import letter


def test_the_policy_comes_from_the_settings() -> None:
    settings = Settings(delivery_ack_timeout_seconds=60, delivery_max_resends=5, delivery_retry_base_seconds=2)
    policy = DeliveryPolicy.from_settings(settings)
    assert policy.ack_timeout == timedelta(minutes=1)
    assert policy.max_resends == 5
    assert DeliveryPolicy.from_settings(Settings()).ack_timeout == timedelta(minutes=30)


@pytest.mark.parametrize(
    "bad",
    [
        {"delivery_backend": "kafka"},
        {"delivery_concurrency": 0},
        {"delivery_max_attempts": 0},
        {"delivery_max_resends": -1},
        {"delivery_ack_timeout_seconds": 0},
        {"delivery_retry_base_seconds": -1},
    ],
)
def test_bad_delivery_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings(**bad)  # type: ignore[arg-type]


def test_back_off_doubles_up_to_the_cap() -> None:
    policy = DeliveryPolicy(retry_base=1.0, retry_max=10.0)
    assert [policy.backoff(n).total_seconds() for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


@given(st.integers(min_value=0, max_value=10_000))
def test_back_off_is_never_negative_nor_above_the_cap(attempts: int) -> None:
    policy = DeliveryPolicy(retry_base=0.5, retry_max=300.0)
    assert timedelta(0) < policy.backoff(attempts) <= timedelta(seconds=300)


def test_a_new_envelope_changes_the_bundle_id_and_nothing_else() -> None:
    item = letter()
    again = new_envelope(item.payload, "a-new-envelope")
    assert again == item.payload.replace(item.envelope_id.encode(), b"a-new-envelope")
    assert b'"note":1.50' in again
