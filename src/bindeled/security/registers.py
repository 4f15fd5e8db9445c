"""The registers the policy consults, as typed records with validity periods.

* the authorisation register snapshot (Styrelsen for Patientsikkerhed), imported, not live;
* trust agreements (trustaftaler) with their six-monthly user reviews and withdrawal;
* citizens' blocks (Min Spærring) and positive consents;
* delegations to helpers (Bemyndigelsesregister), e.g. for FMK prescribing on a doctor's behalf;
* treatment-relation evidence (encounters, referrals, the assigned GP, municipal services).

:class:`Registers` is an immutable snapshot indexed for the policy's look-ups, so :func:`~.policy.decide`
stays a pure function of its arguments. SOR containment (is this unit inside that one?) is not ours:
it is injected as ``is_within(unit, ancestor)`` by whoever holds the SOR tree.

Citizens are identified by their CPR number throughout (the key blocks and MinLog use).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

__all__ = [
    "REVIEW_INTERVAL",
    "Authorisation",
    "Block",
    "BlockKind",
    "Consent",
    "Delegation",
    "IsWithin",
    "Period",
    "Registers",
    "RelationKind",
    "TreatmentRelation",
    "TrustAgreement",
    "same_unit_only",
]

IsWithin = Callable[[str, str], bool]
"""``is_within(unit, ancestor)``: whether SOR ``unit`` is ``ancestor`` or lies below it."""

REVIEW_INTERVAL = timedelta(days=183)
"""A trust agreement's users must be reviewed at least every six months."""

R = TypeVar("R")


def same_unit_only(unit: str, ancestor: str) -> bool:
    """The containment to use when no SOR tree is loaded: a unit contains only itself."""
    return unit == ancestor


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open validity period ``[start, end)``; None means unbounded on that side."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or self.start <= moment) and (self.end is None or moment < self.end)


ALWAYS = Period()


@dataclass(frozen=True, slots=True)
class Authorisation:
    """One authorisation of a health professional in the register snapshot."""

    authorisation_id: str
    education_code: str
    valid: Period = ALWAYS


@dataclass(frozen=True, slots=True)
class TrustAgreement:
    """A trust agreement: an organisation's non-authorised staff may use one system for one purpose."""

    id: str
    organisation_sor: str
    system_name: str
    purpose: str
    valid: Period = ALWAYS
    last_review: datetime | None = None
    """When the organisation last reviewed the agreement's users; None: never (the agreement is not usable)."""
    withdrawn_at: datetime | None = None
    users: frozenset[str] | None = None
    """User ids covered by the last review; None: every trust user of the organisation."""

    def withdrawn(self, now: datetime) -> bool:
        return self.withdrawn_at is not None and self.withdrawn_at <= now

    def review_lapsed(self, now: datetime, interval: timedelta = REVIEW_INTERVAL) -> bool:
        return self.last_review is None or now - self.last_review > interval

    def covers(self, user_id: str) -> bool:
        return self.users is None or user_id in self.users


BlockKind = Literal["person", "organisation", "period", "all"]


@dataclass(frozen=True, slots=True)
class Block:
    """A citizen's block (Min Spærring)."""

    id: str
    citizen: str
    kind: BlockKind
    professional_id: str | None = None
    """``person``: the blocked professional (user id or authorisation id)."""
    organisation_sor: str | None = None
    """``organisation``: the blocked treatment place, whose data is hidden."""
    include_subunits: bool = False
    """``organisation``: also every SOR unit below it."""
    service_period: Period | None = None
    """``period``: data whose service time falls inside is hidden."""
    resource_types: frozenset[str] = frozenset()
    """``all`` (a phone or paper block): the types it covers; empty: every type."""
    valid: Period = ALWAYS
    active: bool = True

    def __post_init__(self) -> None:
        needed = {"person": self.professional_id, "organisation": self.organisation_sor, "period": self.service_period}
        if self.kind in needed and needed[self.kind] is None:
            raise ValueError(f"a {self.kind} block needs its subject")

    def in_force(self, now: datetime) -> bool:
        return self.active and self.valid.contains(now)


@dataclass(frozen=True, slots=True)
class Consent:
    """A citizen's positive consent for a professional or an organisation; it beats blocks affecting them."""

    id: str
    citizen: str
    professional_id: str | None = None
    organisation_sor: str | None = None
    valid: Period = ALWAYS
    active: bool = True

    def __post_init__(self) -> None:
        if (self.professional_id is None) == (self.organisation_sor is None):
            raise ValueError("a consent names exactly one professional or one organisation")

    def in_force(self, now: datetime) -> bool:
        return self.active and self.valid.contains(now)


@dataclass(frozen=True, slots=True)
class Delegation:
    """A delegation (bemyndigelse): a helper may act for an authorised delegator under some purposes."""

    helper_id: str
    """The helper's user id or authorisation id."""
    delegator_authorisation_id: str
    purposes: frozenset[str]
    """The rights delegated, as purposes of use (e.g. ``FMK_WRITE``)."""
    valid: Period = ALWAYS
    """Two years from the grant, unless the register says otherwise."""


RelationKind = Literal["encounter", "referral", "assigned_gp", "municipal_service"]


@dataclass(frozen=True, slots=True)
class TreatmentRelation:
    """Evidence that an organisation (or a named professional) treats a citizen."""

    citizen: str
    kind: RelationKind
    organisation_sor: str
    professional_id: str | None = None
    valid: Period = ALWAYS


def _index(records: Iterable[R], key: Callable[[R], object]) -> Mapping[object, tuple[R, ...]]:
    grouped: dict[object, list[R]] = defaultdict(list)
    for record in records:
        grouped[key(record)].append(record)
    return {k: tuple(v) for k, v in grouped.items()}


@dataclass(frozen=True)
class Registers:
    """An immutable snapshot of every register, indexed for the policy."""

    authorisations: tuple[Authorisation, ...] = ()
    trust_agreements: tuple[TrustAgreement, ...] = ()
    blocks: tuple[Block, ...] = ()
    consents: tuple[Consent, ...] = ()
    relations: tuple[TreatmentRelation, ...] = ()
    delegations: tuple[Delegation, ...] = ()
    is_within: IsWithin = same_unit_only
    _by_aut: Mapping[object, tuple[Authorisation, ...]] = field(init=False, repr=False, compare=False)
    _by_trust: Mapping[object, tuple[TrustAgreement, ...]] = field(init=False, repr=False, compare=False)
    _by_block: Mapping[object, tuple[Block, ...]] = field(init=False, repr=False, compare=False)
    _by_consent: Mapping[object, tuple[Consent, ...]] = field(init=False, repr=False, compare=False)
    _by_relation: Mapping[object, tuple[TreatmentRelation, ...]] = field(init=False, repr=False, compare=False)
    _by_helper: Mapping[object, tuple[Delegation, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "_by_aut", _index(self.authorisations, lambda a: a.authorisation_id))
        put(self, "_by_trust", _index(self.trust_agreements, lambda t: (t.organisation_sor, t.system_name)))
        put(self, "_by_block", _index(self.blocks, lambda b: b.citizen))
        put(self, "_by_consent", _index(self.consents, lambda c: c.citizen))
        put(self, "_by_relation", _index(self.relations, lambda r: r.citizen))
        put(self, "_by_helper", _index(self.delegations, lambda d: d.helper_id))

    def authorisation(self, authorisation_id: str, now: datetime) -> Authorisation | None:
        """The authorisation current at ``now``; expired or future ones count as none (rule 3.2)."""
        found = (a for a in self._by_aut.get(authorisation_id, ()) if a.valid.contains(now))
        return next(found, None)

    def knows_authorisation(self, authorisation_id: str) -> bool:
        return authorisation_id in self._by_aut

    def agreements_for(self, organisation_sor: str, system_name: str) -> tuple[TrustAgreement, ...]:
        return self._by_trust.get((organisation_sor, system_name), ())

    def blocks_of(self, citizen: str, now: datetime) -> tuple[Block, ...]:
        return tuple(b for b in self._by_block.get(citizen, ()) if b.in_force(now))

    def consents_of(self, citizen: str, now: datetime) -> tuple[Consent, ...]:
        return tuple(c for c in self._by_consent.get(citizen, ()) if c.in_force(now))

    def relations_of(self, citizen: str, now: datetime) -> tuple[TreatmentRelation, ...]:
        return tuple(r for r in self._by_relation.get(citizen, ()) if r.valid.contains(now))

    def delegation(self, helper_ids: Iterable[str], delegator: str, purpose: str, now: datetime) -> Delegation | None:
        """A delegation in force from ``delegator`` to the helper (by any of their ids) covering ``purpose``."""
        for helper in helper_ids:
            for found in self._by_helper.get(helper, ()):
                wanted = found.delegator_authorisation_id == delegator and purpose in found.purposes
                if wanted and found.valid.contains(now):
                    return found
        return None

    def with_changes(self, **changes: object) -> Registers:
        """A new snapshot with some registers replaced (administration builds the next snapshot this way)."""
        fields = {
            "authorisations": self.authorisations,
            "trust_agreements": self.trust_agreements,
            "blocks": self.blocks,
            "consents": self.consents,
            "relations": self.relations,
            "delegations": self.delegations,
            "is_within": self.is_within,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"unknown registers: {sorted(unknown)}")
        return Registers(**(fields | changes))  # type: ignore[arg-type]
