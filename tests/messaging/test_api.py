"""The public names of the messaging packages, pinned."""

from __future__ import annotations

import bindeled.messaging
import bindeled.messaging.envelopes


def test_messaging_public_api() -> None:
    assert sorted(bindeled.messaging.__all__) == sorted(
        [
            "MESSAGE_TYPES",
            "RULE_CODES",
            "AckIds",
            "CareCommunication",
            "Action",
            "Decision",
            "Event",
            "Message",
            "MessageType",
            "Notification",
            "ReceiveLog",
            "Received",
            "ResponseCode",
            "Segment",
            "Stay",
            "StayEvent",
            "StayStatus",
            "ValidatorPool",
            "Verdict",
            "apply",
            "build_acknowledgement",
            "build_validator",
            "check_message",
            "decide",
            "event_from_notification",
            "gln_is_valid",
            "message_type",
            "message_type_of",
            "read_care_communication",
            "read_notification",
            "validate_message",
        ]
    )
    for name in bindeled.messaging.__all__:
        assert getattr(bindeled.messaging, name) is not None


def test_envelopes_public_api() -> None:
    assert sorted(bindeled.messaging.envelopes.__all__) == sorted(
        [
            "SbdhEnvelope",
            "Scope",
            "VansEnvelope",
            "VansReceipt",
            "read_sbdh",
            "read_vans",
            "sbdh",
            "vans",
            "write_sbdh",
            "write_vans",
        ]
    )
    for name in bindeled.messaging.envelopes.__all__:
        assert getattr(bindeled.messaging.envelopes, name) is not None
