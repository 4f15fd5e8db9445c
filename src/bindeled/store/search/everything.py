"""Everything in a compartment (``Patient/123/$everything``): three indexed queries, whatever the size.

The compartment's members are found through the reference index (the CompartmentDefinition says,
per resource type, which reference parameters put a resource in the compartment) and fetched in the
same query; the compartment's own resource comes first; then the resources the owner and members
refer to (practitioners, organisations, medications …) are added once, in one more query, as the
operation's definition asks. A fixed number of round trips matters: the answer spans many types.
"""

from __future__ import annotations

from ...errors import NotFound
from ...fhir.definitions import Definitions
from ..base import Store, StoredResource, Transaction
from ._params import Params
from .compile import COLUMNS
from .executor import MAX_INCLUDED, Run, fetch_current, to_stored

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
    live = "r.deleted = 0" if store.dialect == "sqlite" else "NOT r.deleted"
    p = Params(store.dialect)
    members_sql = _members_sql(definitions, p, compartment, id, types)
    members: list[StoredResource] = []
    if members_sql:
        sql = (
            f"SELECT {COLUMNS} FROM resources r JOIN ({members_sql}) m ON r.res_type = m.res_type "
            f"AND r.res_id = m.res_id WHERE {live} AND NOT (r.res_type = {p(compartment)} AND r.res_id = {p(id)}) "
            "ORDER BY r.res_type, r.res_id"
        )
        members = [to_stored(row) for row in await run(sql, p.values)]
    # What the owner and the members refer to: one query, however many types. A UNION of joins,
    # not an OR of IN-lists, so both databases plan it as index lookups.
    p = Params(store.dialect)
    referenced = (
        "SELECT x.target_type, x.target_id FROM search_reference x "
        f"WHERE x.res_type = {p(compartment)} AND x.res_id = {p(id)} AND x.target_id IS NOT NULL"
    )
    if members_sql:
        referenced += (
            " UNION SELECT x.target_type, x.target_id FROM search_reference x "
            f"JOIN ({_members_sql(definitions, p, compartment, id, types)}) m "
            "ON x.res_type = m.res_type AND x.res_id = m.res_id WHERE x.target_id IS NOT NULL"
        )
    seen = {(r.resource_type, r.id) for r in [*owner, *members]}
    sql = (
        f"SELECT {COLUMNS} FROM resources r JOIN ({referenced}) k ON r.res_type = k.target_type "
        f"AND r.res_id = k.target_id WHERE {live} ORDER BY r.res_type, r.res_id LIMIT {p(MAX_INCLUDED + len(seen))}"
    )
    extra = [e for e in map(to_stored, await run(sql, p.values)) if (e.resource_type, e.id) not in seen]
    return [*owner, *members, *extra[:MAX_INCLUDED]]
