"""One error tree for all of bindeled.

Every failure that reaches a caller is a :class:`BindeledError`. Each class carries the FHIR
OperationOutcome ``issue.code`` and the HTTP status it maps to, so one handler at the API edge can
render any of them; nothing below ``api/`` knows about HTTP beyond that number.

::

    BindeledError                   (500, exception)
    ├── InvalidRequest              (400, invalid)       malformed syntax, bad parameters
    │   └── UnsupportedParameter    (400, not-supported) unknown search / operation parameter
    ├── Unauthorized                (401, login)
    ├── Forbidden                   (403, forbidden)
    ├── NotFound                    (404, not-found)     unknown type, id or version
    ├── MethodNotAllowed            (405, not-supported)
    ├── NotAcceptable               (406, not-supported) no producible format in Accept
    ├── Conflict                    (409, conflict)      version conflict, duplicate id
    ├── Gone                        (410, deleted)       read of a deleted resource
    ├── PreconditionFailed          (412, conflict)      If-Match mismatch, ambiguous conditional
    ├── PayloadTooLarge             (413, too-costly)
    ├── UnsupportedMediaType        (415, not-supported)
    └── Unprocessable               (422, processing)    a resource that fails validation

Messages are for humans and must never contain personal data (CPR numbers, names): callers put
element paths in ``location`` and keep values out of the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "BindeledError",
    "Conflict",
    "Forbidden",
    "Gone",
    "InvalidRequest",
    "Issue",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "UnsupportedParameter",
]


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome issue: what went wrong and where (a FHIRPath expression)."""

    severity: str
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()
    details_code: str | None = None
    """A machine-readable code for ``issue.details`` (e.g. ``missing_purpose``)."""

    @property
    def is_error(self) -> bool:
        return self.severity in ("error", "fatal")


class BindeledError(Exception):
    """Base of every error bindeled reports to a caller."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "exception"

    def __init__(
        self,
        message: str,
        *,
        location: tuple[str, ...] | list[str] = (),
        details_code: str | None = None,
        issues: list[Issue] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = tuple(location)
        self.details_code = details_code
        self.issues = list(issues or [])

    def all_issues(self) -> list[Issue]:
        """The issues to report: the explicit list, or one built from the message."""
        if self.issues:
            return list(self.issues)
        return [Issue("error", self.code, self.message, self.location, self.details_code)]


class InvalidRequest(BindeledError):
    """The request cannot be understood: bad JSON or XML, bad parameter, wrong Bundle type."""

    status, code = 400, "invalid"


class UnsupportedParameter(InvalidRequest):
    """A search or operation parameter this server does not know (strict handling)."""

    status, code = 400, "not-supported"


class Unauthorized(BindeledError):
    """No valid credentials."""

    status, code = 401, "login"


class Forbidden(BindeledError):
    """Valid credentials, but the policy refuses the action."""

    status, code = 403, "forbidden"


class NotFound(BindeledError):
    """Unknown resource type, id, version or operation."""

    status, code = 404, "not-found"


class MethodNotAllowed(BindeledError):
    """The HTTP method is not defined for this URL."""

    status, code = 405, "not-supported"


class NotAcceptable(BindeledError):
    """None of the formats the client accepts can be produced."""

    status, code = 406, "not-supported"


class Conflict(BindeledError):
    """The write conflicts with the current state (e.g. id mismatch, concurrent change)."""

    status, code = 409, "conflict"


class Gone(BindeledError):
    """The resource was deleted; its history is still kept."""

    status, code = 410, "deleted"


class PreconditionFailed(BindeledError):
    """A precondition (If-Match, a conditional match count) did not hold."""

    status, code = 412, "conflict"


class PayloadTooLarge(BindeledError):
    """The request body is larger than the configured limit."""

    status, code = 413, "too-costly"


class UnsupportedMediaType(BindeledError):
    """The body is in a format this server does not read."""

    status, code = 415, "not-supported"


class Unprocessable(BindeledError):
    """The resource is well-formed but breaks the definitions or a profile."""

    status, code = 422, "processing"
