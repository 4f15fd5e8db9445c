"""Is an organisation ready to connect to a service, and which services are live per municipality — pure.

Every fact is derived from the data that decides it, never kept by hand:

* **SOR phones** — every active unit of the organisation resolves a phone number in the SOR register
  (its own or inherited from the nearest ancestor, DOMAIN 4.8);
* **trust agreement** — a trust agreement in force (valid now, not withdrawn, reviewed within six
  months) for a unit of the organisation and one of the service's purposes; needed by municipalities only;
* **system client** — an active registered system client (settings or register) of a unit of the
  organisation whose purposes include one of the service's (a client stating none may state any);
* **test message** — the hub's status of the latest letter from one of the organisation's GLNs
  (for a receiver: its Acknowledgement of a test letter): validated, never refused or dead-lettered.

Only the planned go-live date and the live flag come from the rollout register. A service is ``live``
when the register says so, ``ready`` when every check it needs passes, else ``not_ready``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from ...registry.model import Level, SorEntity
from ...registry.tree import SorTree
from ...security.clients import RegisteredClient
from ...security.registers import TrustAgreement
from .plans import RolloutPlan
from .services import SERVICES, Check, Service

__all__ = [
    "CheckResult",
    "LatestLetter",
    "MunicipalityRollout",
    "Organisation",
    "OrganisationKind",
    "OrganisationReadiness",
    "RolloutView",
    "ServiceReadiness",
    "assess",
    "organisations",
]

OrganisationKind = Literal["region", "municipality", "practice"]
Status = Literal["live", "ready", "not_ready"]


@dataclass(frozen=True, slots=True)
class LatestLetter:
    """The latest letter the hub received from an organisation's GLNs, and how it went."""

    message_id: str
    sender_gln: str
    received: str
    passed: bool
    hops: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    passed: bool
    required: bool
    detail: str = ""
    """What was found (a count of units without phone, the agreement's or client's id, the message id)."""


@dataclass(frozen=True, slots=True)
class ServiceReadiness:
    service: str
    status: Status
    checks: tuple[CheckResult, ...]
    planned_go_live: date | None
    note: str


@dataclass(frozen=True, slots=True)
class OrganisationReadiness:
    sor: str
    name: str
    kind: OrganisationKind
    municipality_code: str | None
    services: tuple[ServiceReadiness, ...]


@dataclass(frozen=True, slots=True)
class MunicipalityRollout:
    code: str
    name: str
    live: tuple[str, ...]
    """The services live in the municipality's own organisation."""
    planned: tuple[tuple[str, date], ...]
    """Services not yet live with a planned go-live date."""
    practices_ready: dict[str, int]
    """GP practices in the municipality ready or live, per service."""
    practices: int


@dataclass(frozen=True, slots=True)
class RolloutView:
    on: date
    organisations: tuple[OrganisationReadiness, ...]
    municipalities: tuple[MunicipalityRollout, ...]


@dataclass(frozen=True, slots=True)
class Organisation:
    """An owner in the SOR register (the region, a municipality, a GP practice) and its active entities."""

    owner: SorEntity
    kind: OrganisationKind
    codes: frozenset[str]
    units: tuple[str, ...]


def _kind(tree: SorTree, owner: SorEntity) -> OrganisationKind:
    if any(e.ydernummer for e in tree.descendants(owner.sor_code)):
        return "practice"
    return "municipality" if owner.municipality_code else "region"


def organisations(tree: SorTree, on: date) -> list[Organisation]:
    """The active owners of the tree (region, municipalities, GP practices) with their active entities."""
    found: list[Organisation] = []
    for owner in tree.roots():
        if not owner.validity.is_active(on):
            continue
        active = [e for e in tree.descendants(owner.sor_code) if e.validity.is_active(on)]
        units = tuple(e.sor_code for e in active if e.level is Level.UNIT)
        codes = frozenset([owner.sor_code, *(e.sor_code for e in active)])
        found.append(Organisation(owner, _kind(tree, owner), codes, units))
    return found


def _phones(tree: SorTree, org: Organisation) -> CheckResult:
    missing = [u for u in org.units if tree.resolve(u).phone is None]
    detail = f"{len(org.units) - len(missing)}/{len(org.units)}"
    return CheckResult("sor_phones", bool(org.units) and not missing, True, detail)


def _agreement(org: Organisation, service: Service, agreements: Iterable[TrustAgreement], now: datetime) -> CheckResult:
    required = org.kind == "municipality"
    for a in agreements:
        applies = a.organisation_sor in org.codes and a.purpose in service.purposes
        if applies and a.valid.contains(now) and not a.withdrawn(now) and not a.review_lapsed(now):
            return CheckResult("trust_agreement", True, required, a.id)
    return CheckResult("trust_agreement", False, required)


def _client(org: Organisation, service: Service, clients: Iterable[RegisteredClient]) -> CheckResult:
    """The first active client of the organisation covering the service (``clients`` sorted by id)."""
    for c in clients:
        covers = not c.purposes or bool(c.purposes & service.purposes)
        if c.active and c.organisation_sor in org.codes and covers:
            return CheckResult("system_client", True, True, c.client_id)
    return CheckResult("system_client", False, True)


def _message(found: LatestLetter | None) -> CheckResult:
    if found is None:
        return CheckResult("test_message", False, True)
    return CheckResult("test_message", found.passed, True, found.message_id)


@dataclass(frozen=True, slots=True)
class _Facts:
    tree: SorTree
    agreements: tuple[TrustAgreement, ...]
    clients: tuple[RegisteredClient, ...]
    messages: Mapping[str, LatestLetter]
    plans: Mapping[tuple[str, str], RolloutPlan]
    now: datetime


def _service(org: Organisation, service: Service, facts: _Facts, phones: CheckResult) -> ServiceReadiness:
    results = {
        "sor_phones": lambda: phones,
        "trust_agreement": lambda: _agreement(org, service, facts.agreements, facts.now),
        "system_client": lambda: _client(org, service, facts.clients),
        "test_message": lambda: _message(facts.messages.get(org.owner.sor_code)),
    }
    checks = tuple(results[c]() for c in service.checks)
    plan = facts.plans.get((org.owner.sor_code, service.id))
    ready = all(c.passed or not c.required for c in checks)
    status: Status = "live" if plan is not None and plan.live else "ready" if ready else "not_ready"
    return ServiceReadiness(
        service.id, status, checks, plan.planned_go_live if plan else None, plan.note if plan else ""
    )


def _organisation(org: Organisation, facts: _Facts) -> OrganisationReadiness:
    phones = _phones(facts.tree, org)  # the same for every service: resolved once
    services = tuple(_service(org, s, facts, phones) for s in SERVICES)
    code = _municipality_code(facts.tree, org)
    return OrganisationReadiness(org.owner.sor_code, org.owner.name, org.kind, code, services)


def _municipalities(found: list[OrganisationReadiness]) -> tuple[MunicipalityRollout, ...]:
    rows: list[MunicipalityRollout] = []
    for m in (o for o in found if o.kind == "municipality" and o.municipality_code):
        practices = [o for o in found if o.kind == "practice" and o.municipality_code == m.municipality_code]
        rows.append(
            MunicipalityRollout(
                str(m.municipality_code),
                m.name,
                tuple(s.service for s in m.services if s.status == "live"),
                tuple((s.service, s.planned_go_live) for s in m.services if s.status != "live" and s.planned_go_live),
                {s.id: sum(any(x.service == s.id and x.status != "not_ready" for x in p.services) for p in practices)
                 for s in SERVICES},
                len(practices),
            )
        )  # fmt: skip
    return tuple(sorted(rows, key=lambda r: r.name))


def _municipality_code(tree: SorTree, org: Organisation) -> str | None:
    found = tree.nearest(org.owner.sor_code, lambda e: e.municipality_code)
    return found.value if found else None


def assess(
    tree: SorTree,
    agreements: Iterable[TrustAgreement],
    clients: Iterable[RegisteredClient],
    messages: Mapping[str, LatestLetter],
    plans: Iterable[RolloutPlan],
    now: datetime,
) -> RolloutView:
    """The rollout view as of ``now``; ``messages`` are the latest letters by owner SOR code."""
    by_id = tuple(sorted(clients, key=lambda c: c.client_id))
    facts = _Facts(tree, tuple(agreements), by_id, messages, {(p.organisation_sor, p.service): p for p in plans}, now)
    found = [_organisation(org, facts) for org in organisations(tree, now.date())]
    order = {"municipality": 0, "region": 1, "practice": 2}
    found.sort(key=lambda o: (order[o.kind], o.name))
    return RolloutView(now.date(), tuple(found), _municipalities(found))
