"""Which resources a chained or ``_has`` subquery may join through, for one caller.

A chain (``subject:Patient.name=…``) or a ``_has`` selects the outer results by *other* resources.
The outer results are filtered by the security policy afterwards, but the resources joined inside
the subquery never reach the policy: if they were joined unfiltered, whether an outer result is
there would tell that a hidden resource exists (a blocked citizen's Observation, a result refused
for display). So the gate hands the compiler a :class:`JoinScope`, and every resource a chain or
``_has`` joins is narrowed by it in the SQL:

* ``allowed_types`` — resource types the caller may search at all (its purpose of use); others are
  never joined;
* ``hidden_citizens`` — every resource in the compartment of these citizens (CPR numbers) is left
  out: their Patient resources (by identifier) and every resource referring to one of them, by a
  literal reference or by a CPR identifier;
* ``only_citizens`` — the reverse, for callers who may see no citizen but these (a citizen, a proxy,
  an operator with none): every resource of any other citizen's compartment is left out;
* ``hidden_labels`` — resources carrying one of these ``meta.security`` labels are left out.

The narrowing is deliberately coarser than the policy (a block on one organisation hides the whole
compartment inside the join): hiding too much inside a join is safe, because the outer results are
filtered by the policy as always; hiding too little would leak. The store knows nothing of CPR numbers
or labels: the gate passes the identifier system and label codes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ._params import Params

__all__ = ["JoinScope"]


@dataclass(frozen=True, slots=True)
class JoinScope:
    """The narrowing of every resource a chain or ``_has`` joins (see the module docstring)."""

    citizen_system: str
    """The identifier system of citizens' numbers (the CPR system)."""
    hidden_citizens: frozenset[str] = frozenset()
    only_citizens: frozenset[str] | None = None
    """When set, only these citizens' compartments may be joined (plus data of no citizen)."""
    hidden_labels: tuple[tuple[str, str], ...] = ()
    """``(system, code)`` security labels whose resources are never joined."""
    allowed_types: Callable[[str], bool] = field(default=lambda _type: True, compare=False)
    """Whether the caller may search this resource type at all."""

    def types(self, candidates: tuple[str, ...]) -> tuple[str, ...]:
        """The candidate types a join may go through."""
        return tuple(t for t in candidates if self.allowed_types(t))

    def predicate(self, p: Params, type_sql: str, id_sql: str, alias: str, known_type: str | None = None) -> str:
        """SQL that is true for the joined resource ``(type_sql, id_sql)`` when it may be joined.

        ``known_type`` is its type when the query names one (then ``type_sql`` is a bound value).
        """
        parts = [self._labels(p, type_sql, id_sql, alias)] if self.hidden_labels else []
        if known_type is None:
            is_patient = f"{type_sql} = 'Patient'"
        else:
            is_patient = "1 = 1" if known_type == "Patient" else "1 = 0"
        if self.only_citizens is not None:
            parts.append(self._only(p, type_sql, id_sql, alias, is_patient))
        elif self.hidden_citizens:
            parts.append(self._hidden(p, type_sql, id_sql, alias, is_patient))
        return " AND ".join(parts) if parts else "1 = 1"

    def _patients(self, p: Params, cprs: frozenset[str], alias: str) -> str:
        """The ids of the Patient resources of ``cprs`` (a subquery)."""
        if not cprs:
            return "SELECT NULL WHERE 1 = 0"
        return (
            f"SELECT {alias}.res_id FROM search_token {alias} WHERE {alias}.res_type = 'Patient' "
            f"AND {alias}.param = 'identifier' AND {alias}.system = {p(self.citizen_system)} "
            f"AND {alias}.code IN ({p.many(sorted(cprs))})"
        )

    def _hidden(self, p: Params, type_sql: str, id_sql: str, alias: str, is_patient: str) -> str:
        cprs = p.many(sorted(self.hidden_citizens))
        system = p(self.citizen_system)
        return (
            f"NOT ({is_patient} AND {id_sql} IN ({self._patients(p, self.hidden_citizens, alias + 'p')})) "
            f"AND NOT EXISTS (SELECT 1 FROM search_reference {alias}r WHERE {alias}r.res_type = {type_sql} "
            f"AND {alias}r.res_id = {id_sql} AND (({alias}r.target_type = 'Patient' AND {alias}r.target_id IN "
            f"({self._patients(p, self.hidden_citizens, alias + 'q')})) OR ({alias}r.identifier_system = {system} "
            f"AND {alias}r.identifier_value IN ({cprs}))))"
        )

    def _only(self, p: Params, type_sql: str, id_sql: str, alias: str, is_patient: str) -> str:
        """Data of no citizen, or of one of ``only_citizens``: a Patient with another CPR, or a
        resource referring to any other Patient (or to another CPR), is left out."""
        own = self.only_citizens or frozenset()
        system = p(self.citizen_system)
        any_citizen = (
            f"SELECT {alias}c.res_id FROM search_token {alias}c WHERE {alias}c.res_type = 'Patient' "
            f"AND {alias}c.param = 'identifier' AND {alias}c.system = {system}"
        )
        other_cpr = f"{alias}r.identifier_system = {system}"
        if own:
            other_cpr += f" AND {alias}r.identifier_value NOT IN ({p.many(sorted(own))})"
        return (
            f"NOT ({is_patient} AND {id_sql} IN ({any_citizen}) "
            f"AND {id_sql} NOT IN ({self._patients(p, own, alias + 'p')})) "
            f"AND NOT EXISTS (SELECT 1 FROM search_reference {alias}r WHERE {alias}r.res_type = {type_sql} "
            f"AND {alias}r.res_id = {id_sql} AND (({alias}r.target_type = 'Patient' AND {alias}r.target_id NOT IN "
            f"({self._patients(p, own, alias + 'q')})) OR ({other_cpr})))"
        )

    def _labels(self, p: Params, type_sql: str, id_sql: str, alias: str) -> str:
        labels = " OR ".join(
            f"({alias}l.system = {p(system)} AND {alias}l.code = {p(code)})" for system, code in self.hidden_labels
        )
        return (
            f"NOT EXISTS (SELECT 1 FROM search_token {alias}l WHERE {alias}l.res_type = {type_sql} "
            f"AND {alias}l.res_id = {id_sql} AND {alias}l.param = '_security' AND ({labels}))"
        )
