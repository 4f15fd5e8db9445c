"""Custom SearchParameters kept in the store: which are in force, and loading them at start-up.

A SearchParameter resource written through the API (a DK-core or MedCom parameter, say) is in force
while its ``status`` is ``active``: the repository registers it on write and takes it back when it
is deleted or no longer active. The registry lives in the process, so a process that starts must
load the stored ones before it serves requests: :func:`load_search_parameters`. Registrations are
keyed by the stored resource (``SearchParameter/<id>``), so an update replaces its own earlier
registration and a delete finds it without the deleted body.
"""

from __future__ import annotations

import logging
from typing import Any

from ...errors import BindeledError
from ...fhir import jsonio
from ...fhir.definitions import Definitions
from ...fhir.search.registry import SearchParam, SearchRegistry, registry_for
from ..base import Store

__all__ = ["is_active", "load_search_parameters", "registration_key", "sync_search_parameter"]

log = logging.getLogger("bindeled.search")


def registration_key(id: str) -> str:
    """The registry key of the stored SearchParameter ``id``."""
    return f"SearchParameter/{id}"


def is_active(resource: dict[str, Any]) -> bool:
    return resource.get("status") == "active"


def sync_search_parameter(registry: SearchRegistry, id: str, resource: dict[str, Any] | None) -> SearchParam | None:
    """Bring the registry in line with the stored SearchParameter ``id`` (None: deleted).

    An active one is (re-)registered, which raises :class:`~bindeled.errors.Unprocessable` when it
    cannot be used; any other status, or a deletion, takes the registration back.
    """
    key = registration_key(id)
    if resource is None or not is_active(resource):
        registry.unregister(key)
        return None
    return registry.register(resource, key=key)


async def load_search_parameters(store: Store, definitions: Definitions | SearchRegistry) -> int:
    """Register every active SearchParameter in the store; returns how many. Call once at start-up.

    One that cannot be compiled (stored before a rule tightened, say) is logged by id and skipped,
    so a bad definition never keeps the server from starting.
    """
    registry = registry_for(definitions)
    live = "deleted = 0" if store.dialect == "sqlite" else "NOT deleted"
    placeholder = "?" if store.dialect == "sqlite" else "$1"
    rows = await store.fetch_all(
        f"SELECT res_id, body FROM resources WHERE res_type = {placeholder} AND {live} ORDER BY last_updated, res_id",
        ["SearchParameter"],
    )
    loaded = 0
    for rid, body in rows:
        resource = jsonio.decode_stored(bytes(body))
        if not is_active(resource):
            continue
        try:
            sync_search_parameter(registry, str(rid), resource)
        except BindeledError:
            log.warning("stored SearchParameter cannot be used; skipped", extra={"resource_id": str(rid)})
            continue
        loaded += 1
    return loaded
