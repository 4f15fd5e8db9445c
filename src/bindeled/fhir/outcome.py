"""OperationOutcome resources built from :class:`~bindeled.errors.Issue` records."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..errors import BindeledError, Issue
from .jsonio import Resource

__all__ = ["ISSUE_DETAILS_SYSTEM", "from_error", "operation_outcome", "success"]

ISSUE_DETAILS_SYSTEM = "https://bindeled.dk/fhir/CodeSystem/issue-details"
"""Where bindeled's machine-readable refusal codes (``missing_purpose``, …) are defined."""


def _issue(issue: Issue) -> Resource:
    out: Resource = {"severity": issue.severity, "code": issue.code, "diagnostics": issue.diagnostics}
    if issue.details_code:
        out["details"] = {
            "coding": [{"system": ISSUE_DETAILS_SYSTEM, "code": issue.details_code}],
            "text": issue.diagnostics,
        }
    if issue.expression:
        out["expression"] = list(issue.expression)
    return out


def operation_outcome(issues: Iterable[Issue]) -> Resource:
    """An OperationOutcome with a narrative listing the issues (for humans reading raw responses)."""
    items = [_issue(i) for i in issues]
    if not items:
        items = [{"severity": "information", "code": "informational", "diagnostics": "All OK"}]
    rows = "".join(
        f"<li>{escape(i['severity'])}: {escape(i['diagnostics'])}"
        + (f" ({escape(', '.join(i['expression']))})" if i.get("expression") else "")
        + "</li>"
        for i in items
    )
    return {
        "resourceType": "OperationOutcome",
        "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><ul>{rows}</ul></div>'},
        "issue": items,
    }


def from_error(error: BindeledError) -> Resource:
    return operation_outcome(error.all_issues())


def success(message: str) -> Resource:
    """An informational outcome, e.g. for ``Prefer: return=OperationOutcome`` after a good write."""
    return operation_outcome([Issue("information", "informational", message)])
