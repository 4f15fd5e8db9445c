"""Known defects of the compiled MedCom packages that the hub must not hold against a sender.

Acknowledgement 2.0.3 pins terminology 1.4.0, whose ``medcom-acknowledgement-issue-details`` ValueSet
lost MedCom's own error codes and lists HL7's under a wrong system (terminology 2.0.1 has both
right; see ``fhir-packages/SOURCES.md``). Validated with the pinned packages, every correct
``fatal-error`` or ``transient-error`` Acknowledgement that names its error code fails that required
binding — MedCom's own examples included. The hub sets exactly that issue aside: on an
Acknowledgement, at ``OperationOutcome.issue.details.coding``, for a ``MSG_`` code in MedCom's or
HL7's error-code system. (The tests track the same defect in ``tests/messaging/_defects.py``.)
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import Issue
from ..acknowledgement import ACK_ISSUE_SYSTEM, HL7_ISSUE_SYSTEM
from ..messages import Message

__all__ = ["set_aside_package_defects"]

_PATH = re.compile(r"^Bundle\.entry\[(\d+)\]\.resource\.issue\[(\d+)\]\.details\.coding\[(\d+)\]$")
_SYSTEMS = frozenset({ACK_ISSUE_SYSTEM, HL7_ISSUE_SYSTEM})


def _coding_at(message: Message, path: str) -> dict[str, Any] | None:
    found = _PATH.match(path)
    if found is None:
        return None
    entry, issue, coding = (int(g) for g in found.groups())
    try:
        resource = message.bundle["entry"][entry]["resource"]
        value = resource["issue"][issue]["details"]["coding"][coding]
    except (KeyError, IndexError, TypeError):
        return None
    if resource.get("resourceType") != "OperationOutcome" or not isinstance(value, dict):
        return None
    return value


def _is_defect(message: Message, issue: Issue) -> bool:
    if not issue.expression or issue.code not in ("code-invalid", "invalid", "value"):
        return False
    coding = _coding_at(message, issue.expression[0])
    return coding is not None and coding.get("system") in _SYSTEMS and str(coding.get("code", "")).startswith("MSG_")


def set_aside_package_defects(message: Message, issues: list[Issue]) -> list[Issue]:
    """``issues`` without those the known package defects cause on this message."""
    if message.event != "acknowledgement-message":
        return issues
    return [i for i in issues if not _is_defect(message, i)]
