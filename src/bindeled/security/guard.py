"""The request guard: the security :class:`~.session.Session` speaking the repository's Guard protocol.

The policy needs, for each resource, whose data it is (a CPR number) and where it comes from (a SOR
code). Resources hold references (``Patient/123``, ``Organization/9``), so the guard looks the
referenced Patients and Organizations up in the store — in one batch per page of results, cached for
the request — before asking the session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import BindeledError
from ..fhir.jsonio import Resource
from ..store.base import Store, StoredResource, Transaction
from ..store.guard import NoGuard, current_guard
from .errors import AccessRefused
from .facts import CPR_SYSTEM, DISPLAY_SYSTEM, SOR_SYSTEM, identifier_value, target_of
from .policy import sees_refused_display
from .principal import Principal
from .roles import is_operator
from .session import Session

__all__ = ["RequestGuard", "current_principal", "require_admin", "require_operator"]

_REFUSED_LABEL_EXISTS = (
    "SELECT 1 FROM search_token WHERE param = '_security' AND system = $1 AND code = 'refused' LIMIT 1"
)
_PROBE_REFUSED = "Chained and _has search parameters are not available to this user"


def _references(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref.startswith(("Patient/", "Organization/")) and ref.count("/") == 1:
            out.add(ref)
        for value in node.values():
            _references(value, out)
    elif isinstance(node, list):
        for item in node:
            _references(item, out)


class RequestGuard:
    """The guard of one authenticated request."""

    def __init__(self, session: Session, store: Store) -> None:
        self.session = session
        self.store = store
        self._known: dict[str, str | None] = {}

    async def _resolve(self, resources: Iterable[Resource]) -> None:
        wanted: set[str] = set()
        for resource in resources:
            _references(resource, wanted)
        missing = [ref for ref in wanted if ref not in self._known]
        if not missing:
            return
        found = await self.store.read_many([tuple(ref.split("/", 1)) for ref in missing])  # type: ignore[misc]
        for stored in found:
            body = stored.resource()
            system = CPR_SYSTEM if stored.resource_type == "Patient" else SOR_SYSTEM
            self._known[f"{stored.resource_type}/{stored.id}"] = identifier_value(body, system)
        for ref in missing:
            self._known.setdefault(ref, None)

    def _target(self, resource: Resource) -> Any:
        return target_of(resource, self._known.get, self._known.get)

    async def allow(self, interaction: str, resource_type: str) -> None:
        self.session.authorize(interaction, resource_type)

    async def check(self, interaction: str, resources: Sequence[Resource]) -> None:
        await self._resolve(resources)
        for resource in resources:
            self.session.check(interaction, str(resource["resourceType"]), self._target(resource))

    async def visible(self, interaction: str, items: Sequence[StoredResource]) -> list[StoredResource]:
        live = [(item, item.resource()) for item in items if not item.deleted]
        await self._resolve(body for _item, body in live)
        kept: list[StoredResource] = []
        for item, body in live:
            kept += self.session.filter(interaction, item.resource_type, [(self._target(body), item)])
        kept_keys = {id(k) for k in kept}
        # Tombstones (history) carry no data; they are shown only with a visible live version of the same resource.
        return [i for i in items if id(i) in kept_keys or (i.deleted and self._has_visible(i, kept))]

    @staticmethod
    def _has_visible(item: StoredResource, kept: list[StoredResource]) -> bool:
        return any(k.resource_type == item.resource_type and k.id == item.id for k in kept)

    def may_count(self) -> bool:
        return self.session.principal.admin

    async def allow_probes(self) -> None:
        """Chains and ``_has`` are refused while any citizen's block is in force (administrators excepted).

        Whether a block covers the hidden end of a chain cannot be known before running it, and its
        result would tell; refusing is the safe rule until the policy is compiled into the search SQL.
        """
        principal = self.session.principal
        if principal.admin:
            return
        now = self.session.now
        if any(block.active and block.valid.contains(now) for block in self.session.registers.blocks):
            raise AccessRefused(_PROBE_REFUSED, "search_probe_refused")
        if await self._refused_display_hidden():
            raise AccessRefused(_PROBE_REFUSED, "search_probe_refused")

    async def _refused_display_hidden(self) -> bool:
        """Whether data labelled ``refused`` for display exists that this principal may not see.

        Such data is hidden from the results, but a chain or ``_has`` through it would tell it exists.
        """
        if sees_refused_display(self.session.principal, self.session.settings):
            return False
        return bool(await self.store.fetch_all(_REFUSED_LABEL_EXISTS, [DISPLAY_SYSTEM]))

    async def finish(self, status: int, tx: Transaction | None = None, error: BindeledError | None = None) -> None:
        await self.session.finish(status=status, tx=tx, error=error)


def current_principal() -> Principal | None:
    """The principal of the request being served (None outside a gated request, or with security off)."""
    try:
        guard = current_guard()
    except NoGuard:
        return None
    return guard.session.principal if isinstance(guard, RequestGuard) else None


def require_admin() -> Principal | None:
    """Refuse (403 ``admin_only``) unless the request is an administrator's; None when security is off."""
    principal = current_principal()
    if principal is not None and not principal.admin:
        raise AccessRefused("Only administrators may use this endpoint", "admin_only")
    return principal


def require_operator() -> Principal | None:
    """Refuse (403 ``operator_only``) unless the request is an operator's or an administrator's."""
    principal = current_principal()
    if principal is not None and not is_operator(principal):
        raise AccessRefused("Only platform operators may use this endpoint", "operator_only")
    return principal
