"""SMART on FHIR scopes: what a token may do, whoever it belongs to.

SMART v2 resource scopes look like ``patient/Observation.rs`` or ``system/*.cruds?category=laboratory``:
a context (``patient``, ``user``, ``system``), a resource type or ``*``, and permissions in the fixed order
``c r u d s`` (create, read, update, delete, search). SMART v1's ``read`` and ``write`` (and ``*``) are
accepted and mean ``rs`` and ``cud`` (and all five). Other scopes (``openid``, ``fhirUser``, ``launch``…)
are kept as they are. Scopes only *limit* a token; the policy still decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from .errors import TokenRejected

__all__ = ["INTERACTION_PERMISSION", "Context", "ResourceScope", "ScopeSet", "parse_scope", "parse_scopes"]

Context = Literal["patient", "user", "system"]

_RESOURCE_SCOPE = re.compile(r"(patient|user|system)/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)(?:\?(.*))?\Z")
_V2_ORDER = "cruds"
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}

INTERACTION_PERMISSION: dict[str, str] = {
    "create": "c",
    "read": "r",
    "vread": "r",
    "history": "r",
    "update": "u",
    "patch": "u",
    "delete": "d",
    "search": "s",
}
"""The SMART permission letter each FHIR interaction needs."""


@dataclass(frozen=True, slots=True)
class ResourceScope:
    """One resource scope, e.g. ``patient/Appointment.rs``."""

    context: Context
    resource_type: str
    """A resource type or ``*``."""
    permissions: frozenset[str]
    """Letters from ``cruds``."""
    restrictions: tuple[tuple[str, str], ...] = ()
    """SMART v2 search-parameter restrictions (``?category=…``), kept for the search layer."""

    def allows(self, resource_type: str, permission: str) -> bool:
        return permission in self.permissions and self.resource_type in ("*", resource_type)

    def __str__(self) -> str:
        letters = "".join(c for c in _V2_ORDER if c in self.permissions)
        query = f"?{urlencode(self.restrictions)}" if self.restrictions else ""
        return f"{self.context}/{self.resource_type}.{letters}{query}"


def _permissions(text: str, scope: str) -> frozenset[str]:
    letters = _V1.get(text, text)
    positions = [_V2_ORDER.find(letter) for letter in letters]
    if not letters or -1 in positions or positions != sorted(set(positions)):
        raise TokenRejected(f"Malformed permissions in scope {scope!r}", "invalid_scope")
    return frozenset(letters)


def parse_scope(text: str) -> ResourceScope | None:
    """A resource scope, or None for other scopes; malformed resource scopes raise ``invalid_scope``."""
    if "/" not in text or text.startswith("launch/"):
        return None
    match = _RESOURCE_SCOPE.match(text)
    if match is None:
        raise TokenRejected(f"Malformed resource scope {text!r}", "invalid_scope")
    context, resource_type, letters, query = match.groups()
    restrictions = tuple(parse_qsl(query, keep_blank_values=True, strict_parsing=True)) if query else ()
    return ResourceScope(context, resource_type, _permissions(letters, text), restrictions)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ScopeSet:
    """All scopes of one token."""

    resources: tuple[ResourceScope, ...] = ()
    other: frozenset[str] = field(default_factory=frozenset)
    """Non-resource scopes such as ``openid`` or ``fhirUser``."""

    def allows(self, resource_type: str, interaction: str, contexts: tuple[Context, ...] | None = None) -> bool:
        """Whether some scope (in one of ``contexts``, if given) permits ``interaction`` on ``resource_type``."""
        permission = INTERACTION_PERMISSION.get(interaction)
        if permission is None:
            return False
        return any(
            scope.allows(resource_type, permission) and (contexts is None or scope.context in contexts)
            for scope in self.resources
        )

    def text(self) -> str:
        """The scopes as a space-separated string (v2 form), e.g. for a token response."""
        return " ".join([*(str(scope) for scope in self.resources), *sorted(self.other)])


def parse_scopes(text: str | list[str] | None) -> ScopeSet:
    """Parse a ``scope`` claim (space-separated string, or a list as some issuers send)."""
    items = (text or "").split() if not isinstance(text, list) else [str(item) for item in text]
    resources: list[ResourceScope] = []
    other: set[str] = set()
    for item in items:
        scope = parse_scope(item)
        if scope is None:
            other.add(item)
        else:
            resources.append(scope)
    return ScopeSet(tuple(resources), frozenset(other))
