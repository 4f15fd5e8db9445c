"""SearchRequest → parameterised SQL, for either dialect.

Every criterion becomes a semi-join on one index table::

    r.res_id IN (SELECT t.res_id FROM search_token t
                 WHERE t.res_type = ?1 AND t.param = ?2 AND (<value 1> OR <value 2>))

so the database can drive the search from the index (``(res_type, param, code)`` …) and
probe ``resources`` by primary key. Chains nest the same shape over ``search_reference``
(the target's type and id become the inner "resource"), ``_has`` turns it around. Repeated
parameters are AND-ed; ``:not``, ``:not-in`` and ``:missing=true`` use ``NOT IN``. With a
:class:`~.narrowing.JoinScope` (the security gate's, for a caller who may not see everything) every
resource a chain or ``_has`` joins is narrowed to what that caller could be shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from ...errors import InvalidRequest
from ...fhir.search.cursor import CURSOR_PARAM, Cursor
from ...fhir.search.request import Chain, Compartment, Condition, Criterion, Has, MissingQuery, SearchRequest, SortKey
from ..base import Dialect
from ._match import match_value
from ._params import Params
from .narrowing import JoinScope
from .tables import table_for

__all__ = ["COLUMNS", "CompiledSearch", "compile_count", "compile_estimate", "compile_search", "compile_where"]

COLUMNS = "r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.method, r.body"
"""The resource columns every search returns, in :class:`~bindeled.store.base.StoredResource` order."""


@dataclass(frozen=True, slots=True)
class CompiledSearch:
    sql: str
    params: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _SortTerm:
    """One ORDER BY expression; ``nullable`` ones sort their missing values last."""

    expr: str
    descending: bool
    nullable: bool


@dataclass(frozen=True, slots=True)
class _Target:
    """Which resources a condition is about: SQL for their type and id."""

    type_sql: str
    id_sql: str


class _Compiler:
    def __init__(self, dialect: Dialect, now: datetime, scope: JoinScope | None = None) -> None:
        self.p = Params(dialect)
        self.dialect = dialect
        self.now = now
        self.scope = scope
        """The caller's narrowing of what chains and ``_has`` may join (None: everything)."""
        self.aliases = 0

    def alias(self) -> str:
        self.aliases += 1
        return f"t{self.aliases}"

    def condition(self, cond: Condition, target: _Target) -> str:
        if isinstance(cond, Criterion):
            return self.criterion(cond, target)
        if isinstance(cond, Chain):
            return self.chain(cond, target)
        if isinstance(cond, Compartment):
            return self.compartment(cond, target)
        return self.has(cond, target)

    def compartment(self, c: Compartment, target: _Target) -> str:
        a = self.alias()
        options: list[str] = []
        if c.params:
            options.append(
                f"{target.id_sql} IN (SELECT {a}.res_id FROM search_reference {a} "
                f"WHERE {a}.res_type = {target.type_sql} AND {a}.param IN ({self.p.many(c.params)}) "
                f"AND {a}.target_type = {self.p(c.compartment_type)} AND {a}.target_id = {self.p(c.compartment_id)})"
            )
        options.append(
            f"({target.type_sql} = {self.p(c.compartment_type)} AND {target.id_sql} = {self.p(c.compartment_id)})"
        )
        return "(" + " OR ".join(options) + ")"

    def criterion(self, c: Criterion, target: _Target) -> str:
        if c.param.code == "_id" and c.modifier is None:
            return f"{target.id_sql} IN ({self.p.many([v.code for v in c.values])})"  # type: ignore[union-attr]
        table = table_for(c.param.type).name
        a = self.alias()
        head = (
            f"SELECT {a}.res_id FROM {table} {a} "
            f"WHERE {a}.res_type = {target.type_sql} AND {a}.param = {self.p(c.param.code)}"
        )
        if c.modifier == "missing":
            missing = isinstance(c.values[0], MissingQuery) and c.values[0].missing
            return f"{target.id_sql} {'NOT IN' if missing else 'IN'} ({head})"
        modifier = None if c.modifier in ("not", "not-in") else c.modifier
        matches = " OR ".join(match_value(self.p, v, modifier, self.now, a) for v in c.values)
        negate = "NOT IN" if c.modifier in ("not", "not-in") else "IN"
        return f"{target.id_sql} {negate} ({head} AND ({matches}))"

    def probe(self, c: Criterion, target: _Target) -> str:
        """The criterion as a per-resource check (``EXISTS`` on the table's resource index).

        SQLite runs every ``IN (subquery)`` by building the subquery's whole result first; for a
        broad criterion (``date=ge2010``: half the table) that is most of the query's time. Beside
        a selective driving criterion, checking each candidate resource by key is far cheaper.
        """
        table = table_for(c.param.type).name
        a = self.alias()
        head = (
            f"SELECT 1 FROM {table} {a} WHERE {a}.res_type = {target.type_sql} AND {a}.res_id = {target.id_sql} "
            f"AND {a}.param = {self.p(c.param.code)}"
        )
        if c.modifier == "missing":
            missing = isinstance(c.values[0], MissingQuery) and c.values[0].missing
            return f"{'NOT ' if missing else ''}EXISTS ({head})"
        modifier = None if c.modifier in ("not", "not-in") else c.modifier
        matches = " OR ".join(match_value(self.p, v, modifier, self.now, a) for v in c.values)
        negate = "NOT " if c.modifier in ("not", "not-in") else ""
        return f"{negate}EXISTS ({head} AND ({matches}))"

    def conditions(self, conditions: tuple[Condition, ...], target: _Target) -> list[str]:
        """Top-level conditions; on SQLite the most selective-looking one drives, the other criteria probe."""
        if self.dialect != "sqlite" or len(conditions) < 2:
            return [self.condition(c, target) for c in conditions]
        driver = min(range(len(conditions)), key=lambda i: _rank(conditions[i]))
        return [
            self.probe(c, target) if i != driver and _probeable(c) else self.condition(c, target)
            for i, c in enumerate(conditions)
        ]

    def chain(self, c: Chain, target: _Target) -> str:
        types = c.target_types if self.scope is None else self.scope.types(c.target_types)
        if not types:
            return "1 = 0"
        a = self.alias()
        # With one target type the inner condition names it as a value, not as the outer row's
        # column: the inner subquery is then uncorrelated and the planner can run it once.
        inner_type = self.type_literal(types[0]) if len(types) == 1 else f"{a}.target_type"
        joined = _Target(inner_type, f"{a}.target_id")
        inner = self.condition(c.inner, joined)
        return (
            f"{target.id_sql} IN (SELECT {a}.res_id FROM search_reference {a} "
            f"WHERE {a}.res_type = {target.type_sql} AND {a}.param = {self.p(c.param.code)} "
            f"AND {a}.target_type IN ({self.p.many(types)}) AND {inner}"
            f"{self.narrowed(joined, types[0] if len(types) == 1 else None)})"
        )

    def has(self, h: Has, target: _Target) -> str:
        if self.scope is not None and not self.scope.types((h.source_type,)):
            return "1 = 0"
        a = self.alias()
        source = self.p(h.source_type)
        joined = _Target(source, f"{a}.res_id")
        inner = self.condition(h.inner, joined)
        return (
            f"{target.id_sql} IN (SELECT {a}.target_id FROM search_reference {a} WHERE {a}.res_type = "
            f"{source} AND {a}.param = {self.p(h.param.code)} AND {a}.target_type = {target.type_sql} "
            f"AND {inner}{self.narrowed(joined, h.source_type)})"
        )

    def type_literal(self, resource_type: str) -> str:
        """A resource type as SQL: inline when it is a plain name (a bound value that the inner condition
        does not use, as ``_id`` does not, would leave PostgreSQL unable to type it)."""
        return f"'{resource_type}'" if _TYPE_NAME.fullmatch(resource_type) else self.p(resource_type)

    def narrowed(self, joined: _Target, known_type: str | None) -> str:
        """`` AND`` the scope's predicate on a resource a chain or ``_has`` joins ('' without a scope)."""
        if self.scope is None:
            return ""
        return " AND " + self.scope.predicate(self.p, joined.type_sql, joined.id_sql, self.alias(), known_type)

    def where(self, request: SearchRequest) -> str:
        live = "r.deleted = 0" if self.dialect == "sqlite" else "NOT r.deleted"
        parts = [live]
        if request.resource_type is not None:
            type_sql = self.p(request.resource_type)
            parts.insert(0, f"r.res_type = {type_sql}")
            target = _Target(type_sql, "r.res_id")
        else:
            target = _Target("r.res_type", "r.res_id")
        parts += self.conditions(request.conditions, target)
        return " AND ".join(parts)

    def sort_terms(self, keys: tuple[SortKey, ...]) -> list[_SortTerm]:
        """The ORDER BY terms: each sort key (missing values last), then the tie-breakers."""
        terms: list[_SortTerm] = []
        for key in keys:
            if key.param.code == "_lastUpdated":
                terms.append(_SortTerm("r.last_updated", key.descending, nullable=False))
            else:
                terms.append(_SortTerm(f"({self.sort_value(key)})", key.descending, nullable=True))
        return [
            *terms,
            _SortTerm("r.last_updated", False, nullable=False),
            _SortTerm("r.res_type", False, nullable=False),
            _SortTerm("r.res_id", False, nullable=False),
        ]

    def order(self, terms: list[_SortTerm], *, backward: bool = False) -> str:
        parts: list[str] = []
        for term in terms:
            if term.nullable:
                parts.append(f"{term.expr} IS NULL {'DESC' if backward else 'ASC'}")
            parts.append(f"{term.expr} {'ASC' if term.descending == backward else 'DESC'}")
        return ", ".join(parts)

    def keyset(self, terms: list[_SortTerm], cursor: Cursor) -> str:
        """Rows strictly after (or, backwards, before) the cursor's position in the order of ``terms``."""
        if len(cursor.values) != len(terms):
            raise InvalidRequest(
                "_cursor does not belong to this search; follow the Bundle's links", location=(CURSOR_PARAM,)
            )
        alternatives: list[str] = []
        equal: list[str] = []
        for term, value in zip(terms, cursor.values, strict=True):
            if term.nullable:
                # Missing values sort last: a row with none comes after a cursor that had one.
                if (value is None) == cursor.backward:
                    beyond = f"{term.expr} IS NOT NULL" if cursor.backward else f"{term.expr} IS NULL"
                    alternatives.append(" AND ".join([*equal, beyond]))
                equal.append(f"{term.expr} IS NULL" if value is None else f"{term.expr} IS NOT NULL")
                if value is None:
                    continue
            elif value is None:
                raise InvalidRequest("_cursor is incomplete", location=(CURSOR_PARAM,))
            placeholder = self.p(value)
            comparison = ">" if term.descending == cursor.backward else "<"
            alternatives.append(" AND ".join([*equal, f"{term.expr} {comparison} {placeholder}"]))
            equal.append(f"{term.expr} = {placeholder}")
        return "(" + " OR ".join(f"({a})" for a in alternatives) + ")"

    def sort_value(self, key: SortKey) -> str:
        table = table_for(key.param.type)
        column = {"search_string": "norm", "search_token": "code", "search_reference": "target_id"}.get(
            table.name, "value" if table.name == "search_uri" else ("high" if key.descending else "low")
        )
        agg = "MAX" if key.descending else "MIN"
        a = self.alias()
        return (
            f"SELECT {agg}({a}.{column}) FROM {table.name} {a} WHERE {a}.res_type = r.res_type "
            f"AND {a}.res_id = r.res_id AND {a}.param = {self.p(key.param.code)}"
        )


_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{0,63}")
"""A FHIR resource type name: safe to write into the SQL text."""

_TYPE_RANK = {"reference": 1, "token": 2, "string": 3, "uri": 3, "composite": 4, "date": 5, "number": 6, "quantity": 6}
"""How selective a criterion of each type usually is (lower: fewer matches), to pick the driving one."""


def _negative(c: Criterion) -> bool:
    return c.modifier in ("not", "not-in", "missing")


def _rank(c: Condition) -> int:
    if isinstance(c, Criterion):
        if c.param.code == "_id" and c.modifier is None:
            return 0
        return 9 if _negative(c) else _TYPE_RANK.get(c.param.type, 7)
    # A compartment or a chain pins a reference (to one resource, or to the few a chained criterion finds).
    return 3 if isinstance(c, Has) else 1


def _probeable(c: Condition) -> TypeGuard[Criterion]:
    return isinstance(c, Criterion) and not (c.param.code == "_id" and c.modifier is None)


def compile_where(
    request: SearchRequest, dialect: Dialect, now: datetime, scope: JoinScope | None = None
) -> tuple[str, Params]:
    compiler = _Compiler(dialect, now, scope)
    return compiler.where(request), compiler.p


def compile_search(
    request: SearchRequest, dialect: Dialect, now: datetime, *, limit: int, scope: JoinScope | None = None
) -> CompiledSearch:
    """The page query: matching current resources, sorted, ``limit`` rows.

    The page starts at the request's cursor (after it, or before it read backwards) or else at
    ``request.offset``. After the resource :data:`COLUMNS` each row carries its sort position
    (the values a :class:`~bindeled.fhir.search.cursor.Cursor` holds). ``scope`` narrows what chains
    and ``_has`` join (:class:`~.narrowing.JoinScope`).
    """
    compiler = _Compiler(dialect, now, scope)
    where = compiler.where(request)
    terms = compiler.sort_terms(request.sort)
    cursor = request.cursor
    if cursor is not None:
        where += " AND " + compiler.keyset(terms, cursor)
    backward = cursor is not None and cursor.backward
    position = ", ".join(term.expr for term in terms)
    offset = 0 if cursor is not None else request.offset
    sql = (
        f"SELECT {COLUMNS}, {position} FROM resources r WHERE {where} "
        f"ORDER BY {compiler.order(terms, backward=backward)} "
        f"LIMIT {compiler.p(limit)} OFFSET {compiler.p(offset)}"
    )
    return CompiledSearch(sql, tuple(compiler.p.values))


def compile_count(
    request: SearchRequest, dialect: Dialect, now: datetime, scope: JoinScope | None = None
) -> CompiledSearch:
    """How many current resources match (``_total``)."""
    compiler = _Compiler(dialect, now, scope)
    where = compiler.where(request)
    return CompiledSearch(f"SELECT COUNT(*) FROM resources r WHERE {where}", tuple(compiler.p.values))


def compile_estimate(request: SearchRequest, now: datetime, scope: JoinScope | None = None) -> CompiledSearch:
    """PostgreSQL: the planner's plan for the matches, whose top ``Plan Rows`` estimates the total."""
    compiler = _Compiler("postgresql", now, scope)
    where = compiler.where(request)
    return CompiledSearch(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM resources r WHERE {where}", tuple(compiler.p.values))
