"""The per-request guard the repository calls: every item it reads or writes passes :class:`Session`.

A session belongs to one request and one principal. The repository asks it before touching data
(:meth:`Session.authorize` for the interaction, :meth:`Session.check` for one resource,
:meth:`Session.filter` for a page of search results); the session applies the policy, collects the
MinLog entries of what was actually shown or changed, and at the end (:meth:`Session.finish`)
writes them with the request's AuditEvent, inside the write's store transaction when there is one.

Hidden data (a citizen's block) is dropped without a trace in the response and leaves no MinLog
entry; a read by id of a hidden resource is 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from ..errors import BindeledError
from ..store.base import Clock, Transaction
from .audit import Outcome, build_audit_event
from .citizen_cache import CitizenCache
from .minlog import MinLogCollector
from .pending import pending_access
from .policy import Action, Decision, PolicySettings, Target, decide, decide_access
from .principal import Principal
from .registers import Registers
from .sinks import AuditSink

__all__ = ["Session"]

T = TypeVar("T")


def _outcome(status: int) -> Outcome:
    return "0" if status < 400 else "4" if status < 500 else "8"


@dataclass
class Session:
    """The guard for one request."""

    principal: Principal
    registers: Registers
    sink: AuditSink
    clock: Clock
    correlation_id: str
    settings: PolicySettings = field(default_factory=PolicySettings)
    request_id: str | None = None
    citizens: CitizenCache | None = None
    """The process's Patient → CPR cache (None: every request reads the Patients it needs)."""
    flags: set[str] = field(default_factory=set, init=False)
    """Flags of the allowed decisions (``pending_verification``, ``emergency`` …) for follow-up jobs."""
    _now: datetime | None = field(default=None, init=False)
    _access: dict[Action, Decision] = field(default_factory=dict, init=False)
    _minlog: MinLogCollector | None = field(default=None, init=False)
    _patients: dict[str, None] = field(default_factory=dict, init=False)
    _unverified: dict[str, str | None] = field(default_factory=dict, init=False)
    """Citizens reached without treatment-relation evidence, with their Patient reference."""
    _last: Action | None = field(default=None, init=False)
    _refusal: str | None = field(default=None, init=False)
    _finished: bool = field(default=False, init=False)

    @property
    def now(self) -> datetime:
        """The request's time: read once, so every decision of a request sees the same moment."""
        if self._now is None:
            self._now = self.clock()
        return self._now

    @property
    def collector(self) -> MinLogCollector:
        if self._minlog is None:
            self._minlog = MinLogCollector(self.principal, self.correlation_id)
        return self._minlog

    def authorize(self, interaction: str, resource_type: str) -> Decision:
        """The target-independent decision; raises its error when refused."""
        action = Action(interaction, resource_type)
        self._last = action
        found = self._access.get(action)
        if found is None:
            found = decide_access(self.principal, action, self.registers, self.now, self.settings)
            self._access[action] = found
        if not found.allowed:
            raise self._refused(found)
        return found

    def decide(self, interaction: str, resource_type: str, target: Target) -> Decision:
        """The whole decision for one target, without raising or recording."""
        access = self.authorize(interaction, resource_type)
        action = Action(interaction, resource_type)
        return decide(self.principal, action, target, self.registers, self.now, self.settings, access=access)

    def check(self, interaction: str, resource_type: str, target: Target) -> Decision:
        """One resource read by id or written: allowed and recorded, or raise (hidden → 404, refused → 403/400)."""
        decision = self.decide(interaction, resource_type, target)
        if not decision.allowed:
            raise self._refused(decision)
        self._record(interaction, resource_type, target, decision)
        return decision

    def filter(
        self, interaction: str, resource_type: str, items: Iterable[tuple[Target, T]], *, record: bool = True
    ) -> list[T]:
        """The items the principal may see (search results, includes, history), recorded unless ``record``
        is False (a search looking ahead); others left out."""
        kept: list[T] = []
        for target, item in items:
            decision = self.decide(interaction, resource_type, target)
            if decision.allowed:
                if record:
                    self._record(interaction, resource_type, target, decision)
                kept.append(item)
        return kept

    def _record(self, interaction: str, resource_type: str, target: Target, decision: Decision) -> None:
        self.flags |= decision.flags
        if target.citizen is not None:
            self.collector.add(target.citizen, interaction, resource_type)
        if target.patient_ref is not None:
            self._patients[target.patient_ref] = None
        unverified = "pending_verification" in decision.flags and target.citizen is not None
        if unverified and self._unverified.get(str(target.citizen)) is None:
            self._unverified[str(target.citizen)] = target.patient_ref

    def _refused(self, decision: Decision) -> BindeledError:
        if decision.effect == "refuse":
            self._refusal = decision.reason
        return decision.error()

    async def finish(self, *, status: int, tx: Transaction | None = None, error: BindeledError | None = None) -> None:
        """Write the request's AuditEvent and MinLog entries (once); inside ``tx`` for a write.

        A failed request writes its AuditEvent only: nothing was shown or changed.
        """
        if self._finished:
            return
        self._finished = True
        reason = (error.details_code or error.code) if error is not None else self._refusal
        action = self._last
        event = build_audit_event(
            interaction=action.interaction if action else "operation",
            recorded=self.now,
            outcome=_outcome(status),
            principal=self.principal,
            reason=reason if status >= 400 else None,
            resource_type=action.resource_type if action else None,
            patients=list(self._patients) if status < 400 else (),
            request_id=self.request_id,
        )
        entries = self.collector.entries(self.now) if status < 400 else []
        pending = [
            pending_access(self.principal, citizen, ref, self.now, self.correlation_id)
            for citizen, ref in self._unverified.items()
            if status < 400
        ]
        await self.sink.append([event], entries, recorded=self.now, tx=tx, pending=pending)
