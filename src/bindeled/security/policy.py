"""The policy: may this principal do this to this citizen's data, now? One pure function, in one place.

:func:`decide` takes everything it needs as arguments (principal, action, facts about the target,
a :class:`~.registers.Registers` snapshot, the time, settings) and returns a :class:`Decision`;
it reads no clock, no database and no global. :func:`decide_access` is its first half, the checks
that do not depend on the target (scopes, context, purpose, authorisation, trust agreement,
emergency access), so a search can pay for it once and run the per-item half for each result.

Three effects:

* ``allow`` — return the data and write MinLog (when the target is a citizen's);
* ``hide``  — leave the item out as if it did not exist: a citizen's block, another citizen's
  data asked for by a citizen, or a result labelled ``refused`` for display (only statutory
  surveillance and administrators see those). No hint, no MinLog entry; a read by id becomes 404;
* ``refuse`` — 400 or 403 with a reason code (:meth:`Decision.error`).

Order of the checks (first failure wins): context (400) → scopes → role limits (``roles.py``) →
purpose covers the type and the interaction → who the user is (authorisation, else trust agreement;
FMK writes need a doctor) → emergency access only for authorised professionals → writes reserved for
a profession (FMK prescribing) need it, or a delegation from a responsible user who has it →
refused-display labels hide (except for surveillance) → per citizen: own data (citizens, proxies),
operators see none, consents beat blocks, emergency access beats blocks, blocks hide, treatment
relation (flagged ``pending_verification`` without evidence, refused in strict mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from ..errors import BindeledError, NotFound
from .errors import AccessRefused, ContextMissing
from .principal import Principal, require_data_context
from .purposes import DEFAULT_PURPOSE_RULES, PurposeRule
from .registers import REVIEW_INTERVAL, Block, Registers
from .roles import DEFAULT_ROLE_RULES, RoleRule, role_refusal
from .scopes import INTERACTION_PERMISSION, Context

__all__ = [
    "READ_INTERACTIONS",
    "WRITE_INTERACTIONS",
    "Action",
    "Decision",
    "Effect",
    "PolicySettings",
    "Target",
    "decide",
    "decide_access",
    "hidden_citizens",
    "sees_refused_display",
]

Effect = Literal["allow", "hide", "refuse"]

READ_INTERACTIONS = frozenset({"read", "vread", "history", "search"})
WRITE_INTERACTIONS = frozenset({"create", "update", "patch", "delete"})


@dataclass(frozen=True, slots=True)
class Action:
    """What is asked: a FHIR interaction on a resource type."""

    interaction: str
    resource_type: str

    def __post_init__(self) -> None:
        if self.interaction not in INTERACTION_PERMISSION:
            raise ValueError(f"unknown interaction {self.interaction!r}")

    @property
    def writes(self) -> bool:
        return self.interaction in WRITE_INTERACTIONS


@dataclass(frozen=True, slots=True)
class Target:
    """Facts about one resource the policy needs (extracted by the caller, see ``facts.py``)."""

    citizen: str | None
    """The citizen (CPR) the data is about; None: not a citizen's data (an Organization, a ValueSet …)."""
    organisation_sor: str | None = None
    """The SOR unit the data comes from (performer, service provider, author institution)."""
    service_time: datetime | None = None
    """When the service the data records took place (for period blocks)."""
    patient_ref: str | None = field(default=None, compare=False)
    """The citizen's Patient reference (``Patient/123``), for the audit trail (which never holds CPR numbers)."""
    refused_display: bool = False
    """The resource carries the ``refused`` display label: hidden from clinicians' and citizens' views."""


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Deployment choices the policy honours."""

    strict_treatment_relation: bool = False
    """Refuse (403) health-professional access without treatment-relation evidence, instead of flagging it."""
    review_interval: timedelta = REVIEW_INTERVAL
    """How old a trust agreement's last user review may be."""
    purposes: Mapping[str, PurposeRule] = field(default_factory=lambda: DEFAULT_PURPOSE_RULES)
    roles: Mapping[str, RoleRule] = field(default_factory=lambda: DEFAULT_ROLE_RULES)


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer, with a reason code that is safe to show (except for ``hide``, never shown)."""

    effect: Effect
    reason: str
    status: int = 200
    flags: frozenset[str] = frozenset()
    """``pending_verification``, ``emergency``, ``as_trust_user``, ``delegated``."""
    location: str | None = None
    """For a 400: the context field that is missing or wrong."""

    @property
    def allowed(self) -> bool:
        return self.effect == "allow"

    def with_flags(self, *flags: str) -> Decision:
        return Decision(self.effect, self.reason, self.status, self.flags | frozenset(flags), self.location)

    def error(self) -> BindeledError:
        """The error to raise for a refused or hidden item (a hidden one reads as not found)."""
        if self.effect == "hide":
            return NotFound("Resource not found")
        if self.status == 400:
            return ContextMissing(f"The access context is incomplete ({self.reason})", self.reason, self.location)
        return AccessRefused(f"Access refused ({self.reason})", self.reason)


def _refuse(reason: str, status: int = 403, location: str | None = None) -> Decision:
    return Decision("refuse", reason, status, location=location)


_ALLOW_ADMIN = Decision("allow", "admin")


def decide_access(
    principal: Principal, action: Action, registers: Registers, now: datetime, settings: PolicySettings
) -> Decision:
    """The target-independent half of :func:`decide`."""
    if principal.admin:
        return _ALLOW_ADMIN
    try:
        require_data_context(principal)
    except ContextMissing as exc:
        return _refuse(exc.details_code or "missing_context_field", 400, exc.location[0] if exc.location else None)
    contexts: tuple[Context, ...] = ("system",) if principal.user_type == "system" else ("patient", "user")
    if not principal.scopes.allows(action.resource_type, action.interaction, contexts):
        return _refuse("scope_insufficient")
    role_reason = role_refusal(principal, action.resource_type, settings.roles)
    if role_reason is not None:
        return _refuse(role_reason)
    if principal.user_type in ("citizen", "proxy", "operator"):
        return _emergency(principal) or Decision("allow", principal.user_type)
    return _purpose(principal, action, settings) or _staff(principal, action, registers, now, settings)


def _emergency(principal: Principal) -> Decision | None:
    return _refuse("emergency_not_permitted") if principal.emergency else None


def _purpose(principal: Principal, action: Action, settings: PolicySettings) -> Decision | None:
    rule = settings.purposes.get(principal.purpose or "")
    if rule is None:
        return _refuse("unknown_purpose", 400, "purpose")
    if not rule.covers(action.resource_type):
        return _refuse("purpose_not_covering")
    if action.writes and not rule.writes:
        return _refuse("purpose_read_only")
    return None


def _staff(
    principal: Principal, action: Action, registers: Registers, now: datetime, settings: PolicySettings
) -> Decision:
    rule = settings.purposes[principal.purpose or ""]
    if principal.user_type == "system":
        return _emergency(principal) or Decision("allow", "system")
    authorisation = None
    if principal.user_type == "hcp" and principal.authorisation_id:
        authorisation = registers.authorisation(principal.authorisation_id, now)
    if authorisation is not None:
        if action.writes and rule.education_codes and authorisation.education_code not in rule.education_codes:
            return _delegated(principal, rule, registers, now)
        return Decision("allow", "authorised")
    if principal.emergency:
        return _refuse("emergency_not_permitted")
    if action.writes and rule.education_codes:
        return _delegated(principal, rule, registers, now)
    refusal = _trust(principal, registers, now, settings)
    if refusal is None:
        return Decision("allow", "trust_agreement", flags=frozenset({"as_trust_user"}))
    if principal.user_type == "hcp":
        known = registers.knows_authorisation(principal.authorisation_id or "")
        return _refuse("authorisation_expired" if known else "not_authorised")
    return refusal


def _delegated(principal: Principal, rule: PurposeRule, registers: Registers, now: datetime) -> Decision:
    """A write reserved for some professions, done by a helper on behalf of a responsible user (rule 3.4)."""
    delegator = principal.responsible_user
    if delegator is None:
        return _refuse("education_not_permitted")
    if registers.delegation(_ids(principal), delegator, principal.purpose or "", now) is None:
        return _refuse("no_delegation")
    responsible = registers.authorisation(delegator, now)
    if responsible is None or responsible.education_code not in rule.education_codes:
        return _refuse("delegator_not_authorised")
    return Decision("allow", "delegated", flags=frozenset({"delegated"}))


def _trust(principal: Principal, registers: Registers, now: datetime, settings: PolicySettings) -> Decision | None:
    """None when an active, reviewed agreement covers the user for this purpose and system; else the refusal."""
    candidates = [
        a
        for a in registers.agreements_for(principal.organisation_sor or "", principal.system_name or "")
        if a.purpose == principal.purpose and a.valid.contains(now)
    ]
    if not candidates:
        return _refuse("no_trust_agreement")
    standing = [a for a in candidates if not a.withdrawn(now)]
    if not standing:
        return _refuse("trust_agreement_withdrawn")
    reviewed = [a for a in standing if not a.review_lapsed(now, settings.review_interval)]
    if not reviewed:
        return _refuse("trust_review_lapsed")
    if not any(a.covers(principal.user_id) for a in reviewed):
        return _refuse("trust_user_not_reviewed")
    return None


def decide(
    principal: Principal,
    action: Action,
    target: Target,
    registers: Registers,
    now: datetime,
    settings: PolicySettings | None = None,
    *,
    access: Decision | None = None,
) -> Decision:
    """The whole decision for one target. ``access`` may pass in an earlier :func:`decide_access` result."""
    settings = settings or PolicySettings()
    access = access or decide_access(principal, action, registers, now, settings)
    if not access.allowed or principal.admin:
        return access
    if (
        target.refused_display
        and action.interaction in READ_INTERACTIONS
        and not sees_refused_display(principal, settings)
    ):
        return Decision("hide", "refused_display")
    if target.citizen is None:
        return access
    return _citizen(principal, action, target, target.citizen, registers, now, settings, access)


def _citizen(
    principal: Principal,
    action: Action,
    target: Target,
    citizen: str,
    registers: Registers,
    now: datetime,
    settings: PolicySettings,
    access: Decision,
) -> Decision:
    kind = principal.user_type
    if kind in ("citizen", "proxy"):
        own = citizen == principal.cpr or (kind == "proxy" and citizen in principal.represents)
        return access if own else _not_yours(action)
    if kind == "operator":
        return _not_yours(action)
    rule = settings.purposes[principal.purpose or ""]
    if rule.blocks_apply:
        blocked = _blocked(principal, action, target, citizen, registers, now)
        if blocked is not None:
            return blocked
    if kind == "system" or not rule.needs_relation or principal.emergency:
        return access.with_flags("emergency") if principal.emergency else access
    return _relation(principal, citizen, registers, now, settings, access)


def sees_refused_display(principal: Principal, settings: PolicySettings) -> bool:
    """Only administrators and purposes that are no view of the citizen (surveillance) see refused-display data."""
    if principal.admin:
        return True
    if principal.user_type in ("citizen", "proxy", "operator"):
        return False
    rule = settings.purposes.get(principal.purpose or "")
    return rule is not None and rule.sees_refused_display


def _not_yours(action: Action) -> Decision:
    return _refuse("not_own_data") if action.writes else Decision("hide", "not_own_data")


def _blocked(
    principal: Principal, action: Action, target: Target, citizen: str, registers: Registers, now: datetime
) -> Decision | None:
    """A ``hide`` decision when a block in force covers this item and nothing overrides it."""
    hits = [b for b in registers.blocks_of(citizen, now) if _covers(b, principal, action, target, registers)]
    if not hits:
        return None
    if _consented(principal, citizen, registers, now):
        return None
    if principal.emergency:
        return None
    return Decision("hide", f"{hits[0].kind}_block")


def hidden_citizens(
    principal: Principal, registers: Registers, now: datetime, settings: PolicySettings | None = None
) -> frozenset[str]:
    """Citizens some of whose data a block in force may hide from ``principal`` (a health professional,
    trust user or system), for narrowing what chained and ``_has`` searches join.

    Coarser than :func:`decide` on purpose: an organisation, period or type block counts whatever the
    data, since which data a join reaches is not known beforehand. Blocks naming another professional,
    blocks a consent for this principal overrides, emergency access and purposes blocks do not apply
    to count not. Citizens, proxies and operators see no other citizen at all (see ``guard.py``).
    """
    rule = (settings or PolicySettings()).purposes.get(principal.purpose or "")
    if principal.admin or principal.emergency or rule is None or not rule.blocks_apply:
        return frozenset()
    ids = _ids(principal)
    candidates = {
        b.citizen for b in registers.blocks if b.in_force(now) and (b.kind != "person" or b.professional_id in ids)
    }
    return frozenset(c for c in candidates if not _consented(principal, c, registers, now))


def _ids(principal: Principal) -> set[str]:
    return {i for i in (principal.user_id, principal.authorisation_id) if i}


def _covers(block: Block, principal: Principal, action: Action, target: Target, registers: Registers) -> bool:
    if block.kind == "person":
        return block.professional_id in _ids(principal)
    if block.kind == "organisation":
        unit, blocked = target.organisation_sor, block.organisation_sor or ""
        if unit is None:
            return False
        return unit == blocked or (block.include_subunits and registers.is_within(unit, blocked))
    if block.kind == "period":
        period = block.service_period
        return period is not None and target.service_time is not None and period.contains(target.service_time)
    return not block.resource_types or action.resource_type in block.resource_types


def _consented(principal: Principal, citizen: str, registers: Registers, now: datetime) -> bool:
    ids, unit = _ids(principal), principal.organisation_sor
    for consent in registers.consents_of(citizen, now):
        if consent.professional_id is not None and consent.professional_id in ids:
            return True
        org = consent.organisation_sor
        if org is not None and unit is not None and registers.is_within(unit, org):
            return True
    return False


def _relation(
    principal: Principal,
    citizen: str,
    registers: Registers,
    now: datetime,
    settings: PolicySettings,
    access: Decision,
) -> Decision:
    ids, unit = _ids(principal), principal.organisation_sor
    for relation in registers.relations_of(citizen, now):
        if relation.professional_id is not None and relation.professional_id in ids:
            return access
        if unit is not None and registers.is_within(unit, relation.organisation_sor):
            return access
    if settings.strict_treatment_relation:
        return _refuse("no_treatment_relation")
    return access.with_flags("pending_verification")
