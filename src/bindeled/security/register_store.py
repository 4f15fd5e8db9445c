"""The administered registers in the store's own database: the authorisation snapshot and the documents.

Every change bumps ``security_register_version`` in the same transaction, so :func:`~.loading.registers_marker`
notices it and the gate rebuilds its registers snapshot before the next request (in every process that
checks the marker). An authorisation import replaces the whole snapshot in one transaction.

:func:`save_registers` writes a whole :class:`~.registers.Registers` (the demo's) into the store, so the
demo's users are backed by stored registers an administrator can then change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from ..store.base import Store, Transaction
from ..store.sql_params import chunks, values_clause
from .audit import format_instant
from .authorisation_import import COUNTING_STATUSES, AuthorisationRow, to_authorisation
from .clients import RegisteredClient
from .register_documents import (
    DelegationDoc,
    RegisterKind,
    RelationDoc,
    StoredDocuments,
    TrustAgreementDoc,
    register_kind,
)
from .registers import Authorisation, Registers

__all__ = ["AuthorisationImport", "RegisterStore", "save_registers"]

_BUMP = "UPDATE security_register_version SET version = version + 1 WHERE id = 1"
_UPSERT = (
    "INSERT INTO security_register_entry (register, id, updated, body) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (register, id) DO UPDATE SET updated = excluded.updated, body = excluded.body"
)
_INSERT_AUTHORISATIONS = (
    "INSERT INTO security_authorisation (authorisation_id, education_code, name, status, valid_from, valid_to) VALUES "
)
_INSERT_IMPORT = (
    "INSERT INTO security_authorisation_import (imported_at, format, row_count, digest) VALUES ($1, $2, $3, $4)"
)


@dataclass(frozen=True, slots=True)
class AuthorisationImport:
    """What an import did, or the last one that was done."""

    imported_at: str
    format: str
    rows: int
    counting: int
    """Rows whose status lets the authorisation count."""
    digest: str


def _authorisation_values(row: AuthorisationRow) -> tuple[str | None, ...]:
    start, end = _instant(row.valid_from), _instant(row.valid_to)
    return (row.authorisation_id, row.education_code, row.name, row.status, start, end)


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)


def _parse(text: object) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))


class RegisterStore:
    """The registers' tables on a :class:`~bindeled.store.base.Store` (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def version(self) -> int:
        rows = await self.store.fetch_all("SELECT version FROM security_register_version WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    # -- documents --------------------------------------------------------------------------------

    async def entries(self, register: str) -> list[Any]:
        kind = register_kind(register)
        rows = await self.store.fetch_all(
            "SELECT body FROM security_register_entry WHERE register = $1 ORDER BY id", (register,)
        )
        return [msgspec.json.decode(bytes(body), type=kind) for (body,) in rows]

    async def get(self, register: str, id: str) -> Any | None:
        kind = register_kind(register)
        rows = await self.store.fetch_all(
            "SELECT body FROM security_register_entry WHERE register = $1 AND id = $2", (register, id)
        )
        return msgspec.json.decode(bytes(rows[0][0]), type=kind) if rows else None

    async def put(self, register: str, doc: Any, now: datetime) -> bool:
        """Create or replace one document; True when it is new."""
        async with self.store.transaction() as tx:
            found = await tx.fetch_all(
                "SELECT 1 FROM security_register_entry WHERE register = $1 AND id = $2", (register, doc.id)
            )
            await self._put(tx, register, doc, now)
        return not found

    async def _put(self, tx: Transaction, register: str, doc: Any, now: datetime) -> None:
        await tx.fetch_all(_UPSERT, (register, doc.id, format_instant(now), msgspec.json.encode(doc)))
        await tx.fetch_all(_BUMP)

    async def delete(self, register: str, id: str) -> bool:
        async with self.store.transaction() as tx:
            found = await tx.fetch_all(
                "SELECT 1 FROM security_register_entry WHERE register = $1 AND id = $2", (register, id)
            )
            if found:
                await tx.fetch_all(
                    "DELETE FROM security_register_entry WHERE register = $1 AND id = $2", (register, id)
                )
                await tx.fetch_all(_BUMP)
        return bool(found)

    async def documents(self) -> StoredDocuments:
        rows = await self.store.fetch_all("SELECT register, body FROM security_register_entry ORDER BY register, id")
        decoded: dict[str, list[Any]] = {}
        for register, body in rows:
            kind: RegisterKind = register_kind(str(register))
            decoded.setdefault(str(register), []).append(msgspec.json.decode(bytes(body), type=kind).record())
        return StoredDocuments(
            agreements=tuple(decoded.get("trust-agreements", ())),
            delegations=tuple(decoded.get("delegations", ())),
            relations=tuple(decoded.get("treatment-relations", ())),
            clients=tuple(decoded.get("clients", ())),
        )

    async def clients(self) -> dict[str, RegisteredClient]:
        return {c.client_id: c for c in (await self.documents()).clients}

    # -- the authorisation snapshot ------------------------------------------------------------------

    async def import_authorisations(
        self, rows: Sequence[AuthorisationRow], *, fmt: str, data: bytes, now: datetime
    ) -> AuthorisationImport:
        """Replace the snapshot with ``rows`` (already checked), in one transaction."""
        digest = hashlib.sha256(data).hexdigest()
        async with self.store.transaction() as tx:
            await tx.fetch_all("DELETE FROM security_authorisation")
            for batch in chunks(rows):
                params = [value for r in batch for value in _authorisation_values(r)]
                await tx.fetch_all(_INSERT_AUTHORISATIONS + values_clause(len(batch), 6), params)
            await tx.fetch_all(_INSERT_IMPORT, (format_instant(now), fmt, len(rows), digest))
            await tx.fetch_all(_BUMP)
        counting = sum(1 for r in rows if r.status in COUNTING_STATUSES)
        return AuthorisationImport(format_instant(now), fmt, len(rows), counting, digest)

    async def last_import(self) -> AuthorisationImport | None:
        found = await self.store.fetch_all(
            "SELECT imported_at, format, row_count, digest FROM security_authorisation_import ORDER BY id DESC LIMIT 1"
        )
        if not found:
            return None
        counting = await self.store.fetch_all(
            "SELECT COUNT(*) FROM security_authorisation WHERE status IN ('active', 'restricted')"
        )
        at, fmt, count, digest = found[0]
        return AuthorisationImport(str(at), str(fmt), int(count), int(counting[0][0]), str(digest))

    async def authorisation_rows(self, authorisation_id: str | None = None) -> list[AuthorisationRow]:
        sql = "SELECT authorisation_id, name, education_code, status, valid_from, valid_to FROM security_authorisation"
        params: tuple[str, ...] = ()
        if authorisation_id is not None:
            sql, params = sql + " WHERE authorisation_id = $1", (authorisation_id,)
        rows = await self.store.fetch_all(sql + " ORDER BY authorisation_id, education_code", params)
        return [AuthorisationRow(str(a), str(n), str(e), str(s), _parse(f), _parse(t)) for a, n, e, s, f, t in rows]

    async def authorisations(self) -> tuple[Authorisation, ...]:
        return tuple(to_authorisation(row) for row in await self.authorisation_rows())

    # -- the policy's view ---------------------------------------------------------------------------

    async def registers(self, base: Registers) -> Registers:
        """``base`` plus every stored authorisation, trust agreement, delegation and treatment relation."""
        docs = await self.documents()
        return base.with_changes(
            authorisations=(*base.authorisations, *await self.authorisations()),
            trust_agreements=(*base.trust_agreements, *docs.agreements),
            delegations=(*base.delegations, *docs.delegations),
            relations=(*base.relations, *docs.relations),
        )


async def save_registers(store: Store, registers: Registers, now: datetime, *, names: dict[str, str]) -> None:
    """Write ``registers`` (e.g. the demo's) into the store: authorisations, agreements, delegations, relations.

    ``names`` gives each authorisation id its holder's name (the snapshot needs one). Documents get
    stable ids, so saving the same registers twice changes nothing.
    """
    target = RegisterStore(store)
    rows = [
        AuthorisationRow(
            a.authorisation_id,
            names.get(a.authorisation_id, a.authorisation_id),
            a.education_code,
            "active",
            a.valid.start,
            a.valid.end,
        )
        for a in registers.authorisations
    ]
    await target.import_authorisations(rows, fmt="registers", data=repr(rows).encode(), now=now)
    docs: list[tuple[str, Any]] = [
        (
            "trust-agreements",
            TrustAgreementDoc(
                id=t.id,
                organisation_sor=t.organisation_sor,
                system_name=t.system_name,
                purpose=t.purpose,
                valid_from=t.valid.start,
                valid_to=t.valid.end,
                last_review=t.last_review,
                withdrawn_at=t.withdrawn_at,
                users=sorted(t.users) if t.users is not None else None,
            ),
        )
        for t in registers.trust_agreements
    ]
    docs += [
        (
            "delegations",
            DelegationDoc(
                id=f"delegation-{i}",
                helper_id=d.helper_id,
                delegator_authorisation_id=d.delegator_authorisation_id,
                purposes=sorted(d.purposes),
                valid_from=d.valid.start,
                valid_to=d.valid.end,
            ),
        )
        for i, d in enumerate(registers.delegations, start=1)
    ]
    docs += [
        (
            "treatment-relations",
            RelationDoc(
                id=f"relation-{i}",
                citizen=r.citizen,
                kind=r.kind,
                organisation_sor=r.organisation_sor,
                professional_id=r.professional_id,
                valid_from=r.valid.start,
                valid_to=r.valid.end,
            ),
        )
        for i, r in enumerate(registers.relations, start=1)
    ]
    async with store.transaction() as tx:
        for register, doc in docs:
            await target._put(tx, register, doc, now)
