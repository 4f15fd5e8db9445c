"""The alert raised when the hub gives up on a letter: a log line and a counter, never personal data.

The log line names the letter by its MessageHeader id, its type and the two organisations' GLNs (which
identify organisations, not people); the reason is the hub's own text (an HTTP status, "no
acknowledgement after 4 envelopes"), never the letter's content. The counters are per message type,
for operators' dashboards and the dead-letter API.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

__all__ = ["delivery_failed", "failure_counts"]

logger = logging.getLogger("bindeled.messaging.delivery")

_failures: Counter[str] = Counter()
_lock = threading.Lock()


def delivery_failed(message_id: str, message_type: str, sender_gln: str, receiver_gln: str, reason: str) -> None:
    """Raise the alert for a letter that was marked failed and moved to the dead-letter list."""
    with _lock:
        _failures[message_type] += 1
    logger.error(
        "MedCom letter failed and was dead-lettered",
        extra={
            "alert": "message-delivery-failed",
            "message_id": message_id,
            "message_type": message_type,
            "sender_gln": sender_gln,
            "receiver_gln": receiver_gln,
            "reason": reason[:200],
        },
    )


def failure_counts() -> dict[str, int]:
    """Letters failed in this process since it started, per message type."""
    with _lock:
        return dict(_failures)
