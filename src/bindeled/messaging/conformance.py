"""MedCom business rules on top of the profile validator, one check per rule.

The StructureDefinitions catch structure, bindings and invariants; what they cannot say (or say
with outdated canonicals, DOMAIN §5 note 6) is checked here: organisations with SOR *and* a GLN
whose GS1 check digit holds, exactly one ``primary`` destination and no ``cc``, one Patient with a
CPR number, the Provenance stack, narratives, zoned times, references that stay inside the Bundle,
HospitalNotification's event/encounter combinations and CareCommunication's parts.

Each check returns :class:`~bindeled.errors.Issue` records carrying a stable code in
``details_code`` (``MEDCOM-…``; listed in :data:`RULE_CODES`) and the FHIRPath of the offending
element. Diagnostics never contain a CPR number or a name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..errors import Issue
from ._rules_cc import CC_CHECKS
from ._rules_common import COMMON_CHECKS, gln_is_valid
from ._rules_hn import HN_CHECKS
from .messages import Message
from .profiles import ValidatorPool, message_type_of

__all__ = ["CC_MAX_BYTES", "RULE_CODES", "Check", "check_message", "gln_is_valid", "validate_message"]

Check = Callable[[Message], Iterator[Issue]]

_BY_EVENT: dict[str, tuple[Check, ...]] = {
    "hospital-notification-message": HN_CHECKS,
    "care-communication-message": CC_CHECKS,
}


def check_message(message: Message, *, size: int | None = None) -> list[Issue]:
    """Every business-rule Issue of ``message``; ``size`` is its size in bytes as received, if known."""
    issues: list[Issue] = []
    for check in COMMON_CHECKS + _BY_EVENT.get(message.event or "", ()):
        issues.extend(check(message))
    if size is not None and message.event == "care-communication-message":
        issues.extend(_size_limit(size))
    return issues


def validate_message(message: Message, pool: ValidatorPool, *, size: int | None = None) -> list[Issue]:
    """Profile validation against the MedCom profile the message claims, then the business rules.

    Raises :class:`~bindeled.errors.Unprocessable` (``MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE``)
    for a message type or version this hub does not handle.
    """
    kind = message_type_of(message)
    issues = pool.for_type(kind).validate(message.bundle, [kind.bundle_profile])
    return issues + check_message(message, size=size)


CC_MAX_BYTES = 50 * 1024 * 1024
"""CareCommunication's limit (DOMAIN §5 note 5: 50 MB, not VANS's 100 MB)."""


def _size_limit(size: int) -> Iterator[Issue]:
    if size > CC_MAX_BYTES:
        yield Issue(
            "error",
            "too-costly",
            f"The message is {size} bytes; at most 50 MB is allowed",
            ("Bundle",),
            "MEDCOM-CC-SIZE",
        )


RULE_CODES: frozenset[str] = frozenset(
    {
        "MEDCOM-BUNDLE",
        "MEDCOM-ID-UUID",
        "MEDCOM-ORG-MISSING",
        "MEDCOM-ORG-SOR",
        "MEDCOM-ORG-GLN",
        "MEDCOM-GLN-CHECK-DIGIT",
        "MEDCOM-DESTINATION-PRIMARY",
        "MEDCOM-DESTINATION-CC",
        "MEDCOM-PATIENT",
        "MEDCOM-PATIENT-CPR",
        "MEDCOM-PROVENANCE",
        "MEDCOM-PROVENANCE-ACTIVITY",
        "MEDCOM-NARRATIVE",
        "MEDCOM-TIMEZONE",
        "MEDCOM-REFERENCE-OUTSIDE",
        "MEDCOM-DEFINITION",
        "MEDCOM-HN-ENCOUNTER",
        "MEDCOM-HN-CLASS-STATUS",
        "MEDCOM-HN-PERIOD",
        "MEDCOM-HN-LEAVE",
        "MEDCOM-HN-DECEASED",
        "MEDCOM-HN-REPORT-OF-ADMISSION",
        "MEDCOM-CC-COMMUNICATION",
        "MEDCOM-CC-CATEGORY",
        "MEDCOM-CC-TOPIC",
        "MEDCOM-CC-PRIORITY",
        "MEDCOM-CC-THREAD",
        "MEDCOM-CC-ATTACHMENT",
        "MEDCOM-CC-SIZE",
    }
)
"""Every stable rule code a check can report (``Issue.details_code``)."""
