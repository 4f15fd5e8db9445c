"""MedCom message hub, library part: reading, checking and answering MedCom FHIR messages.

Modules (one concept each):

* :mod:`.messages` – read-only views over message Bundles (header, parties, patient, Provenances)
* :mod:`.hospital_notification` – the 18 HospitalNotification events and how a message names one
* :mod:`.care_communication` – a CareCommunication's thread, category and text/attachment segments
* :mod:`.profiles` – which MedCom package/profile a message type and version uses; validators
  preloaded with exactly the IG's dependency versions
* :mod:`.conformance` – MedCom business rules as individual checks with stable codes
* :mod:`.acknowledgement` – building the Acknowledgement message (ok / transient-error / fatal-error)
* :mod:`.duplicates` – the duplicate rule as a pure decision
* :mod:`.stay` – a HospitalNotification's effect on the citizen's current stay
* :mod:`.envelopes` – VANS and EHMI SBDH envelopes and their envelope-level receipts
"""

from __future__ import annotations

from .acknowledgement import AckIds, ResponseCode, build_acknowledgement
from .care_communication import CareCommunication, Segment, read_care_communication
from .conformance import RULE_CODES, check_message, gln_is_valid, validate_message
from .duplicates import Decision, Received, ReceiveLog, Verdict, decide
from .hospital_notification import Action, Event, Notification, read_notification
from .messages import Message
from .profiles import MESSAGE_TYPES, MessageType, ValidatorPool, build_validator, message_type, message_type_of
from .stay import Stay, StayEvent, StayStatus, apply, event_from_notification

__all__ = [
    "MESSAGE_TYPES",
    "RULE_CODES",
    "AckIds",
    "Action",
    "CareCommunication",
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
