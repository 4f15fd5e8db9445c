"""The refusals of the security gate, each with a machine-readable ``details_code``.

They are subclasses of :mod:`bindeled.errors` classes, so the one handler at the API edge renders
them as OperationOutcomes with the right status; the code goes into ``issue.details`` and is what an
integrator programs against (never a bare "validation failed"). Messages name fields and codes only,
never a CPR number, a name or a token.

::

    Unauthorized (401)
    └── TokenRejected          invalid_token, token_expired, unknown_issuer, … ; invalid_client for assertions
    InvalidRequest (400)
    ├── OAuthRefused           invalid_request, invalid_client, invalid_grant, invalid_scope, unsupported_grant_type
    └── ContextMissing         missing_purpose, missing_context_field, missing_emergency_reason, unknown_purpose …
    Forbidden (403)
    └── AccessRefused          no_trust_agreement, authorisation_expired, scope_insufficient, …
    Unprocessable (422)
    └── AuthorInstitutionNotSor  author_institution_not_sor
"""

from __future__ import annotations

from ..errors import Forbidden, InvalidRequest, Unauthorized, Unprocessable

__all__ = ["AccessRefused", "AuthorInstitutionNotSor", "ContextMissing", "OAuthRefused", "TokenRejected"]


class TokenRejected(Unauthorized):
    """The bearer token (or a client assertion) could not be verified; nothing about the caller is trusted."""

    def __init__(self, message: str, details_code: str) -> None:
        super().__init__(message, details_code=details_code)


class ContextMissing(InvalidRequest):
    """The access context is incomplete or malformed (rule 3.1): nothing is returned or logged as data access."""

    def __init__(self, message: str, details_code: str, field: str | None = None) -> None:
        super().__init__(message, details_code=details_code, location=(field,) if field else ())


class OAuthRefused(InvalidRequest):
    """A token request refused; ``/oauth/token`` answers with :meth:`body` (RFC 6749 §5.2), not an OperationOutcome."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message, details_code=error)

    def body(self) -> dict[str, str]:
        return {"error": self.details_code or "invalid_request", "error_description": self.message}


class AccessRefused(Forbidden):
    """The policy refuses the action; ``details_code`` is the policy's reason code."""

    def __init__(self, message: str, details_code: str) -> None:
        super().__init__(message, details_code=details_code)


class AuthorInstitutionNotSor(Unprocessable):
    """A CVR number (or anything but a SOR code) was given where a SOR author institution is required (rule 3.13)."""

    def __init__(self, location: str) -> None:
        super().__init__(
            "The author institution must be identified by a SOR code (urn:oid:1.2.208.176.1.1)",
            details_code="author_institution_not_sor",
            location=(location,),
        )
