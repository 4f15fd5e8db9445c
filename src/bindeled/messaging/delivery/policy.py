"""The delivery rules in numbers, read from the settings once: retries, leases, resends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ...config import Settings

__all__ = ["DeliveryPolicy"]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard and how long the hub tries (see ``docs/settings.md``, ``delivery_*``)."""

    concurrency: int = 8
    poll: float = 0.2
    timeout: float = 10.0
    lease: timedelta = timedelta(seconds=60)
    retry_base: float = 1.0
    retry_max: float = 300.0
    max_attempts: int = 50
    ack_timeout: timedelta = timedelta(minutes=30)
    max_resends: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            concurrency=settings.delivery_concurrency,
            poll=settings.delivery_poll_seconds,
            timeout=settings.delivery_timeout_seconds,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            retry_base=settings.delivery_retry_base_seconds,
            retry_max=settings.delivery_retry_max_seconds,
            max_attempts=settings.delivery_max_attempts,
            ack_timeout=timedelta(seconds=settings.delivery_ack_timeout_seconds),
            max_resends=settings.delivery_max_resends,
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed try: doubling from ``retry_base`` up to ``retry_max``."""
        exponent = min(max(attempts - 1, 0), 40)
        return timedelta(seconds=min(self.retry_base * 2**exponent, self.retry_max))
