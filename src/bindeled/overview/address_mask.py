"""Name and address protection (navne- og adressebeskyttelse) on every read of a Patient, not only the card.

A protected citizen's address is hidden from staff outside the citizen's municipality (DOMAIN 4.4; the
rule is :func:`~.card.hides_address`, the same one ``$stamkort`` and ``$overview`` apply). The repository
runs this mask on what it returns for reads, vreads, history, searches (``_include``/``_revinclude``
too) and ``$everything`` (``Repository.read_masks``), so a plain ``GET /fhir/Patient/{id}`` shows the same
as the card. Every address is replaced by :data:`~.stamkort_model.MASKED_ADDRESS` (its ``use`` and
``period`` kept, as the card does for the temporary address), the narrative is left out (it may print
the address) and the result carries the security label ``REDACTED``. Trusted internal jobs (the system
guard), administrators, the citizen and their proxies see the stored resource unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import Forbidden
from ..fhir import jsonio
from ..fhir.jsonio import Resource
from ..fhir.search import Chain, Has, SearchRequest
from ..fhir.search.request import Condition
from ..store.base import StoredResource
from ..store.guard import Guard
from ..store.repository import Repository
from .card import hides_address
from .principals import principal_of
from .stamkort_model import ADDRESS_PROTECTED, MASKED_ADDRESS, is_protected

__all__ = ["REDACTED", "AddressProtectionMask", "AddressSearchHide", "masked_patient"]

_MARK = ADDRESS_PROTECTED.encode()
"""Only bodies naming the protection extension are decoded and looked at."""

REDACTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED"}
"""The security label on a Patient returned with its address masked."""


def masked_patient(patient: Resource) -> Resource:
    """A copy of ``patient`` with every address masked, no narrative, and the ``REDACTED`` label."""
    masked = {k: v for k, v in patient.items() if k != "text"}
    addresses: list[dict[str, Any]] = []
    for address in patient.get("address", ()):
        kept = {k: address[k] for k in ("use", "period") if isinstance(address, dict) and k in address}
        addresses.append({**kept, "text": MASKED_ADDRESS})
    if addresses:
        masked["address"] = addresses
    meta = dict(patient.get("meta") or {})
    meta["security"] = [*meta.get("security", ()), dict(REDACTED)]
    masked["meta"] = meta
    return masked


class AddressProtectionMask:
    """The repository's read mask (``Repository.read_masks``) for protected citizens' addresses."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    async def __call__(self, guard: Guard, items: Sequence[StoredResource]) -> list[StoredResource]:
        return [await self._one(guard, item) for item in items]

    async def _one(self, guard: Guard, item: StoredResource) -> StoredResource:
        if item.resource_type != "Patient" or item.deleted or _MARK not in item.body:
            return item
        patient = item.resource()
        if not is_protected(patient) or not await hides_address(self.repo, guard, patient):
            return item
        return replace(item, body=jsonio.encode(masked_patient(patient)))


def _on_address(condition: Condition, types: tuple[str, ...]) -> bool:
    """Whether a condition on ``types`` (a chain's or ``_has``'s inner ones too) matches on a Patient's address."""
    if isinstance(condition, Chain):
        return _on_address(condition.inner, condition.target_types or ("Patient",))
    if isinstance(condition, Has):
        return _on_address(condition.inner, (condition.source_type,))
    param = getattr(condition, "param", None)
    return "Patient" in types and param is not None and "Patient.address" in param.expression


class AddressSearchHide:
    """The repository's search rule (``Repository.search_hides``): a match on a protected address tells the address.

    Masking the returned Patient is not enough when the search itself asked about the address
    (``Patient?address-city=…``, or sorting by it): that the citizen matched gives the address away. Such a
    search leaves out the protected citizens whose address the caller may not see, while its pages are filled,
    so nothing shows that anyone was left out. A chain or ``_has`` through Patient addresses cannot be answered
    that way (the matches are other resources), so it is refused to staff; they search Patients directly.
    """

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    async def __call__(
        self, guard: Guard, request: SearchRequest, items: Sequence[StoredResource]
    ) -> Sequence[StoredResource]:
        principal = principal_of(guard)
        if principal is None or principal.admin or principal.user_type in ("citizen", "proxy"):
            return items
        types = (request.resource_type,) if request.resource_type else ("Patient",)
        if any(isinstance(c, Chain | Has) and _on_address(c, types) for c in request.conditions):
            raise Forbidden(
                "Searching through Patient addresses in a chain or _has is not allowed (protected addresses); "
                "search Patient by address directly",
                details_code="address_search_protected",
            )
        asks = any(_on_address(c, types) for c in request.conditions if not isinstance(c, Chain | Has))
        sorts = "Patient" in types and any("Patient.address" in key.param.expression for key in request.sort)
        if not (asks or sorts):
            return items
        return [item for item in items if not await self._hides(guard, item)]

    async def _hides(self, guard: Guard, item: StoredResource) -> bool:
        if item.resource_type != "Patient" or item.deleted or _MARK not in item.body:
            return False
        patient = item.resource()
        return is_protected(patient) and await hides_address(self.repo, guard, patient)
