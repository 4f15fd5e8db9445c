"""Who owns a Subscription: the access context of the request that created it, kept beside it.

The owner is what decides what a Subscription may be told about, so it is never read from the
Subscription resource (anyone who can write a resource could forge it): the create and update routes
(:mod:`.routes`) record the caller's :class:`~bindeled.security.principal.Principal` as token claims in
``subscription_owner``, in the same transaction as the Subscription. Emergency access is not kept: a
Subscription never inherits a one-off værdispring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ...security.principal import Principal, principal_from_claims
from ...store.base import Store, Transaction, utc_now

__all__ = ["claims_of", "is_owner", "owned_by", "owner_of", "principal_of", "record_owner", "same_owner"]

_UPSERT = (
    "INSERT INTO subscription_owner (subscription_id, claims, recorded) VALUES ($1, $2, $3)"
    " ON CONFLICT (subscription_id) DO UPDATE SET claims = excluded.claims, recorded = excluded.recorded"
)
_SELECT = "SELECT claims FROM subscription_owner WHERE subscription_id = $1"


def claims_of(principal: Principal) -> dict[str, Any]:
    """Token claims that :func:`~bindeled.security.principal.principal_from_claims` turns back into ``principal``."""
    claims: dict[str, Any] = {
        "user_type": principal.user_type,
        "sub": principal.user_id,
        "iss": principal.issuer,
        "name": principal.full_name,
        "role": principal.role,
        "authorisation_id": principal.authorisation_id,
        "education_code": principal.education_code,
        "sor": principal.organisation_sor,
        "org_name": principal.organisation_name,
        "system_name": principal.system_name,
        "system_version": principal.system_version,
        "purpose": principal.purpose,
        "cpr": principal.cpr,
        "represents": sorted(principal.represents),
        "responsible_user": principal.responsible_user,
        "name_protected": principal.name_protected,
        "admin": principal.admin,
        "client_id": principal.client_id,
        "scope": principal.scopes.text(),
    }
    return {name: value for name, value in claims.items() if value is not None}


def principal_of(claims: dict[str, Any]) -> Principal:
    return principal_from_claims(claims, allow_admin=True)


async def record_owner(tx: Transaction, subscription_id: str, principal: Principal) -> None:
    claims = msgspec.json.encode(claims_of(principal)).decode()
    await tx.fetch_all(_UPSERT, (subscription_id, claims, utc_now().isoformat()))


async def owner_of(store: Store | Transaction, subscription_id: str) -> Principal | None:
    """The recorded owner (None for a Subscription written some other way, e.g. in a transaction Bundle)."""
    rows = await store.fetch_all(_SELECT, (subscription_id,))
    return principal_of(msgspec.json.decode(str(rows[0][0]))) if rows else None


def is_owner(owner: Principal | None, principal: Principal) -> bool:
    """The same user from the same issuer."""
    return owner is not None and (owner.user_id, owner.issuer) == (principal.user_id, principal.issuer)


def same_owner(owner: Principal, principal: Principal) -> bool:
    """The owner, or an administrator (who may act on anyone's Subscription)."""
    return principal.admin or is_owner(owner, principal)


async def owned_by(store: Store, principal: Principal, ids: Sequence[str]) -> set[str]:
    """Of these Subscription ids, the ones ``principal`` owns (the security guard's ownership rule)."""
    mine: set[str] = set()
    for id_ in ids:
        owner = await owner_of(store, id_)
        if is_owner(owner, principal):
            mine.add(id_)
    return mine
