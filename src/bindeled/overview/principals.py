"""Who is writing or reading, as the overview's rules need it: the principal and its SOR subtree.

Inside a request the repository's guard is the gate's :class:`~bindeled.security.guard.RequestGuard`;
a trusted internal job (imports, the demo loader, the benchmark) runs under the system guard and has
no principal. Administrators and trusted jobs are not bound to an organisation; everybody else may
change a resource only when their SOR unit lies in the owning unit's subtree.
"""

from __future__ import annotations

from ..security.errors import AccessRefused
from ..security.guard import RequestGuard
from ..security.principal import Principal
from ..store.guard import Guard

__all__ = ["is_trusted", "principal_of", "require_within"]


def principal_of(guard: Guard) -> Principal | None:
    """The request's principal; None for a trusted internal job."""
    return guard.session.principal if isinstance(guard, RequestGuard) else None


def is_trusted(guard: Guard) -> bool:
    """A trusted job or an administrator: not bound to an owning organisation."""
    principal = principal_of(guard)
    return principal is None or principal.admin


def _within(guard: Guard, owners: tuple[str, ...]) -> bool:
    if not isinstance(guard, RequestGuard):
        return True
    unit = guard.session.principal.organisation_sor
    is_within = guard.session.registers.is_within
    return unit is not None and any(is_within(unit, owner) for owner in owners)


def require_within(guard: Guard, owners: tuple[str | None, ...], what: str, code: str) -> None:
    """Refuse (403 ``code``) unless the principal is trusted or works in one of the ``owners``' SOR subtrees."""
    if is_trusted(guard):
        return
    known = tuple(o for o in owners if o)
    if not known or not _within(guard, known):
        raise AccessRefused(f"Only the owning organisation (or a unit below it) may change {what}", code)
