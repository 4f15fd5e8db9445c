"""The seam between the repository and the security gate: every data access asks the current guard.

The repository never decides who may see what; it asks the :class:`Guard` of the current request
(set by the API for each request, or a :class:`SystemGuard` for trusted internal jobs such as the
demo loader and register imports). With no guard set, the repository refuses to touch data, so a
code path that forgot to authenticate fails loudly instead of leaking.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from ..fhir.jsonio import Resource
from .base import StoredResource, Transaction
from .search.narrowing import JoinScope

__all__ = ["Guard", "NoGuard", "SystemGuard", "as_system", "current_guard", "use_guard"]


class Guard(Protocol):
    """What the repository asks before, during and after touching data."""

    async def allow(self, interaction: str, resource_type: str) -> None:
        """May this request do ``interaction`` on ``resource_type`` at all? Raise if not."""
        ...

    async def check(self, interaction: str, resources: Sequence[Resource]) -> None:
        """May it read or write each of these resources? Raise (404 for hidden, 403 for refused) if not."""
        ...

    async def visible(
        self, interaction: str, items: Sequence[StoredResource], *, record: bool = True
    ) -> list[StoredResource]:
        """The items it may see, in order; the others are left out without a trace.

        ``record=False`` only asks (a search looking ahead to fill its page): nothing is logged as read.
        """
        ...

    def may_count(self) -> bool:
        """Whether totals may be shown (they could reveal hidden data when filtering applies)."""
        ...

    async def allow_probes(self) -> JoinScope | None:
        """What may this request's chained and ``_has`` parameters join? Raise if they may not be used.

        A chain or ``_has`` selects results by resources the caller may not be allowed to see, so a
        result could reveal that hidden data exists; the returned scope narrows the joined resources
        to those the caller could be shown (None: no narrowing).
        """
        ...

    async def finish(self, status: int, tx: Transaction | None = None) -> None:
        """Write the request's audit records (once); inside ``tx`` for a write."""
        ...


class NoGuard(RuntimeError):
    """The repository was used outside a request and outside :func:`as_system`."""


class SystemGuard:
    """Allows everything: for bindeled's own trusted jobs (demo loading, imports, migrations)."""

    async def allow(self, interaction: str, resource_type: str) -> None:
        return None

    async def check(self, interaction: str, resources: Sequence[Resource]) -> None:
        return None

    async def visible(
        self, interaction: str, items: Sequence[StoredResource], *, record: bool = True
    ) -> list[StoredResource]:
        return list(items)

    def may_count(self) -> bool:
        return True

    async def allow_probes(self) -> JoinScope | None:
        return None

    async def finish(self, status: int, tx: Transaction | None = None) -> None:
        return None


_current: ContextVar[Guard | None] = ContextVar("bindeled_guard", default=None)


def current_guard() -> Guard:
    found = _current.get()
    if found is None:
        raise NoGuard("No security guard is set for this data access (use the API, or as_system() for jobs)")
    return found


@contextmanager
def use_guard(guard: Guard) -> Iterator[Guard]:
    token = _current.set(guard)
    try:
        yield guard
    finally:
        _current.reset(token)


@contextmanager
def as_system() -> Iterator[Guard]:
    """Run trusted internal work with full access: ``with as_system(): ...``."""
    with use_guard(SystemGuard()) as guard:
        yield guard
