"""Everything in a compartment (``Patient/123/$everything``): one indexed query, plus what it refers to.

The compartment's members are found through the reference index in one query (the
CompartmentDefinition says, per resource type, which reference parameters put a resource in the
compartment), the compartment's own resource is added first, and then the resources those refer to
(practitioners, organisations, medications …) are added once, as the operation's definition asks.
"""

from __future__ import annotations

from ...errors import NotFound
from ...fhir.definitions import Definitions
from ...fhir.search.request import Include
from ..base import Store, StoredResource, Transaction
from ._params import Params
from .executor import MAX_INCLUDED, Run, fetch_current, forward_references

__all__ = ["MAX_EVERYTHING", "everything"]

MAX_EVERYTHING = 10_000
"""At most this many compartment members are returned (newest first beyond that are left out)."""


def _members_sql(definitions: Definitions, p: Params, compartment: str, id: str, types: tuple[str, ...] | None) -> str:
    options: list[str] = []
    for res in definitions.compartments[compartment].get("resource", ()):
        params = [x for x in res.get("param", ()) if x != "{def}"]
        if params and (types is None or res["code"] in types):
            options.append(f"(t.res_type = {p(res['code'])} AND t.param IN ({p.many(params)}))")
    if not options:
        return ""
    return (
        "SELECT DISTINCT t.res_type, t.res_id FROM search_reference t "
        f"WHERE t.target_type = {p(compartment)} AND t.target_id = {p(id)} AND ({' OR '.join(options)}) "
        f"ORDER BY t.res_type, t.res_id LIMIT {p(MAX_EVERYTHING)}"
    )


async def everything(
    store: Store,
    definitions: Definitions,
    compartment: str,
    id: str,
    *,
    types: tuple[str, ...] | None = None,
    tx: Transaction | None = None,
) -> list[StoredResource]:
    """The compartment resource, its members (of ``types`` if given) and the resources they refer to.

    Raises :class:`~bindeled.errors.NotFound` when the compartment resource does not exist.
    """
    if compartment not in definitions.compartments:
        raise NotFound(f"Unknown compartment {compartment!r}")
    run: Run = tx.fetch_all if tx is not None else store.fetch_all
    owner = await fetch_current(run, store.dialect, [(compartment, id)])
    if not owner:
        raise NotFound(f"{compartment}/{id} is not known")
    p = Params(store.dialect)
    sql = _members_sql(definitions, p, compartment, id, types)
    keys = [(str(a), str(b)) for a, b in await run(sql, p.values)] if sql else []
    members = await fetch_current(run, store.dialect, [k for k in keys if k != (compartment, id)])
    found = [*owner, *members]
    seen = {(r.resource_type, r.id) for r in found}
    referenced = await forward_references(run, store.dialect, Include("Resource", None), found, iterating=True)
    extra = [k for k in dict.fromkeys(referenced) if k not in seen][:MAX_INCLUDED]
    return found + await fetch_current(run, store.dialect, extra)
