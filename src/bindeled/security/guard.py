"""The request guard: the security :class:`~.session.Session` speaking the repository's Guard protocol.

The policy needs, for each resource, whose data it is (a CPR number) and where it comes from (a SOR
code). Resources hold references (``Patient/123``, ``Organization/9``), so the guard looks the
referenced Patients and Organizations up — Patients in the process's :class:`~.citizen_cache.CitizenCache`
first, the rest in the store in one batch per page of results, cached for the request — before asking
the session. Chained and ``_has`` searches are narrowed to what the principal could be shown
(:meth:`RequestGuard.allow_probes`), and a search's page is filled past hidden matches
(``visible(..., record=False)``), so no page length, link or cursor tells that hidden data exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence

from ..errors import BindeledError, NotFound
from ..fhir.jsonio import Resource
from ..store.base import Store, StoredResource, Transaction
from ..store.guard import NoGuard, current_guard
from ..store.search.narrowing import JoinScope
from .errors import AccessRefused
from .facts import CPR_SYSTEM, DISPLAY_SYSTEM, SOR_SYSTEM, identifier_value, target_of
from .policy import Action, Target, decide_access, hidden_citizens, sees_refused_display
from .principal import Principal
from .roles import is_operator
from .session import Session

__all__ = [
    "MAX_JOIN_HIDDEN",
    "OwnedBy",
    "RequestGuard",
    "current_principal",
    "register_owned_type",
    "require_admin",
    "require_operator",
]

_REFUSED_LABEL = (DISPLAY_SYSTEM, "refused")
_PROBE_REFUSED = "Chained and _has search parameters are not available to this user"
MAX_JOIN_HIDDEN = 2000
"""More citizens than this whose blocks may apply: chains and ``_has`` are refused (the SQL would get too long)."""


def _version(item: StoredResource) -> tuple[str, str, int]:
    return item.resource_type, item.id, item.version_id


OwnedBy = Callable[[Store, Principal, Sequence[str]], Awaitable[set[str]]]
"""Of these ids of an owned type, the ones that belong to this principal."""

_OWNED_TYPES: dict[str, OwnedBy] = {}


def register_owned_type(resource_type: str, owned_by: OwnedBy) -> None:
    """Resources of ``resource_type`` belong to one user: every path shows them only to their owner.

    Administrators see all of them; one with no owner is an administrator's only. Subscriptions register
    themselves (``api/subscriptions``), so no read, history, search or include shows another's endpoint.
    """
    _OWNED_TYPES[resource_type] = owned_by


class RequestGuard:
    """The guard of one authenticated request."""

    def __init__(self, session: Session, store: Store) -> None:
        self.session = session
        self.store = store
        self._known: dict[str, str | None] = {}
        self._types: dict[str, bool] = {}
        self._targets: dict[tuple[str, str, int], Target] = {}
        """The policy's facts per resource version seen in this request."""

    async def _resolve(self, resources: Iterable[Resource]) -> None:
        """Learn the CPR numbers and SOR codes behind the references the policy will look at.

        Patients come from the process's :class:`~.citizen_cache.CitizenCache` when it knows them;
        the rest is read from the store in one batch.
        """
        wanted: set[str] = set()

        def note(ref: str) -> None:
            if ref.count("/") == 1 and ref not in self._known:
                wanted.add(ref)

        for resource in resources:
            target_of(resource, note, note)  # notes what the real pass will ask
        cache = self.session.citizens
        if cache is not None:
            for ref in [r for r in wanted if r.startswith("Patient/")]:
                known, cpr = cache.get(ref)
                if known:
                    self._known[ref] = cpr
                    wanted.discard(ref)
        if not wanted:
            return
        generation = cache.generation if cache is not None else 0
        found = await self.store.read_many([tuple(ref.split("/", 1)) for ref in wanted])  # type: ignore[misc]
        for stored in found:
            if stored.deleted:
                continue
            body = stored.resource()
            is_patient = stored.resource_type == "Patient"
            ref = f"{stored.resource_type}/{stored.id}"
            self._known[ref] = identifier_value(body, CPR_SYSTEM if is_patient else SOR_SYSTEM)
            if is_patient and cache is not None:
                cache.put(ref, self._known[ref], generation)
        for ref in wanted:
            self._known.setdefault(ref, None)

    def _target(self, resource: Resource) -> Target:
        return target_of(resource, self._known.get, self._known.get)

    async def allow(self, interaction: str, resource_type: str) -> None:
        self.session.authorize(interaction, resource_type)

    async def _foreign(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of these (type, id) keys, those of an owned type that are not this principal's."""
        principal = self.session.principal
        wanted = {key for key in keys if key[0] in _OWNED_TYPES}
        if principal.admin or not wanted:
            return set()
        foreign: set[tuple[str, str]] = set()
        for rtype in {t for t, _ in wanted}:
            ids = sorted(i for t, i in wanted if t == rtype)
            mine = await _OWNED_TYPES[rtype](self.store, principal, ids)
            foreign |= {(rtype, i) for i in ids if i not in mine}
        return foreign

    async def check(self, interaction: str, resources: Sequence[Resource]) -> None:
        keys = ((str(r.get("resourceType")), str(r.get("id", ""))) for r in resources)
        if interaction != "create" and await self._foreign(keys):
            raise NotFound("Resource not found")
        await self._resolve(resources)
        for resource in resources:
            self.session.check(interaction, str(resource["resourceType"]), self._target(resource))

    async def visible(
        self, interaction: str, items: Sequence[StoredResource], *, record: bool = True
    ) -> list[StoredResource]:
        foreign = await self._foreign((item.resource_type, item.id) for item in items)
        items = [item for item in items if (item.resource_type, item.id) not in foreign]
        live = [item for item in items if not item.deleted]
        fresh = [(item, item.resource()) for item in live if _version(item) not in self._targets]
        await self._resolve(body for _item, body in fresh)
        for item, body in fresh:  # a search that looked ahead (record=False) has these already
            self._targets[_version(item)] = self._target(body)
        kept: list[StoredResource] = []
        for item in live:
            target = self._targets[_version(item)]
            kept += self.session.filter(interaction, item.resource_type, [(target, item)], record=record)
        kept_keys = {id(k) for k in kept}
        # Tombstones (history) carry no data; they are shown only with a visible live version of the same resource.
        return [i for i in items if id(i) in kept_keys or (i.deleted and self._has_visible(i, kept))]

    @staticmethod
    def _has_visible(item: StoredResource, kept: list[StoredResource]) -> bool:
        return any(k.resource_type == item.resource_type and k.id == item.id for k in kept)

    def may_count(self) -> bool:
        return self.session.principal.admin

    async def allow_probes(self) -> JoinScope | None:
        """The narrowing of what this request's chains and ``_has`` may join (None for administrators).

        Joined resources never reach the policy, so they are limited in the SQL to what the principal
        could be shown (:class:`~bindeled.store.search.narrowing.JoinScope`): types its purpose covers;
        no resource labelled ``refused`` for display unless it sees those; for a citizen or proxy only
        their own (and represented) citizens' data, for an operator no citizen's; for staff nothing in
        the compartment of a citizen whose block may apply to them (:func:`~.policy.hidden_citizens`).
        With more such citizens than :data:`MAX_JOIN_HIDDEN`, chains and ``_has`` are refused instead.
        """
        session = self.session
        principal = session.principal
        if principal.admin:
            return None
        labels = () if sees_refused_display(principal, session.settings) else (_REFUSED_LABEL,)
        only: frozenset[str] | None = None
        hidden: frozenset[str] = frozenset()
        if principal.user_type in ("citizen", "proxy", "operator"):
            own = {principal.cpr} if principal.cpr and principal.user_type != "operator" else set()
            only = frozenset(own | (set(principal.represents) if principal.user_type == "proxy" else set()))
        else:
            hidden = hidden_citizens(principal, session.registers, session.now, session.settings)
            if len(hidden) > MAX_JOIN_HIDDEN:
                raise AccessRefused(_PROBE_REFUSED, "search_probe_refused")
        return JoinScope(CPR_SYSTEM, hidden, only, labels, allowed_types=self._searchable)

    def _searchable(self, resource_type: str) -> bool:
        """Whether the principal may search ``resource_type`` at all (no recording, no raising)."""
        if resource_type in _OWNED_TYPES:  # never joined for a non-administrator: another's would show through
            return False
        found = self._types.get(resource_type)
        if found is None:
            session = self.session
            action = Action("search", resource_type)
            decision = decide_access(session.principal, action, session.registers, session.now, session.settings)
            found = self._types[resource_type] = decision.allowed
        return found

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
