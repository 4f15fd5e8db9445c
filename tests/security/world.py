"""A small synthetic world for the security tests: SOR units, citizens, registers, resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bindeled.errors import BindeledError
from bindeled.security import (
    Authorisation,
    Gate,
    InMemoryAuditSink,
    LocalIssuer,
    Principal,
    Registers,
    Session,
    TokenVerifier,
    TreatmentRelation,
    TrustAgreement,
    demo_user,
    target_of,
)
from bindeled.security.registers import Period

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

# Units of the synthetic SOR region where the demo users work (see ``security/devissuer.py``).
REGION = "10019999999100"
HOSPITAL = "10029999999100"
MEDICAL = "10079999999100"  # below HOSPITAL
CARDIOLOGY = "10169999999100"  # below HOSPITAL
GP_PRACTICE = "17459999999100"
HOME_CARE = "12519999999100"
HOME_NURSING = "12559999999100"

PARENT = {
    HOSPITAL: REGION,
    MEDICAL: HOSPITAL,
    CARDIOLOGY: HOSPITAL,
    GP_PRACTICE: REGION,
    HOME_CARE: REGION,
    HOME_NURSING: REGION,
}

CARL = "6101709995"  # the demo citizen
DORA = "0303801234"
CPR_OF = {"Patient/carl": CARL, "Patient/dora": DORA}
ORGS = {"Organization/medical": MEDICAL, "Organization/cardio": CARDIOLOGY, "Organization/gp": GP_PRACTICE}

AUDIENCE = "https://bindeled.test/fhir"


def is_within(unit: str, ancestor: str) -> bool:
    current: str | None = unit
    while current is not None:
        if current == ancestor:
            return True
        current = PARENT.get(current)
    return False


def registers(**changes: Any) -> Registers:
    base = Registers(
        authorisations=(
            Authorisation("GP7K2", "7170"),
            Authorisation("HD4M9", "7170", Period(datetime(2010, 1, 1, tzinfo=UTC), None)),
            Authorisation(
                "NS3B8", "5166", Period(datetime(2015, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC))
            ),
        ),
        trust_agreements=(
            TrustAgreement("ta-1", HOME_CARE, "DemoCare", "ESP_APPOINTMENTS", last_review=NOW - timedelta(days=30)),
            TrustAgreement("ta-2", HOME_NURSING, "DemoCare", "ESP_APPOINTMENTS", last_review=NOW - timedelta(days=30)),
        ),
        relations=(
            TreatmentRelation(CARL, "assigned_gp", GP_PRACTICE, professional_id="GP7K2"),
            TreatmentRelation(CARL, "encounter", HOSPITAL),
            TreatmentRelation(CARL, "municipal_service", HOME_CARE),
        ),
        is_within=is_within,
    )
    return base.with_changes(**changes) if changes else base


def appointment(id: str, patient: str, org: str, start: str = "2026-02-20T09:00:00+01:00") -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": id,
        "status": "booked",
        "start": start,
        "participant": [
            {"actor": {"reference": patient}, "status": "accepted"},
            {"actor": {"reference": org}, "status": "accepted"},
        ],
    }


def medication(id: str, patient: str, org: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": id,
        "status": "active",
        "subject": {"reference": patient},
        "informationSource": {"reference": org},
        "effectiveDateTime": "2026-01-10",
    }


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """A gate with bindeled's own issuer trusted, in-memory audit, and helpers that act like the repository."""

    folder: Path
    clock: Clock = field(default_factory=Clock)
    sink: InMemoryAuditSink = field(default_factory=InMemoryAuditSink)

    def __post_init__(self) -> None:
        self.issuer = LocalIssuer(self.folder, "https://bindeled.test/dev-issuer", AUDIENCE)
        verifier = TokenVerifier([self.issuer.config()], clock=self.clock)
        self.gate = Gate(verifier, registers(), self.sink, clock=self.clock)

    def token(self, user: str, purpose: str | None = None, emergency_reason: str | None = None) -> str:
        return self.issuer.mint(demo_user(user), now=self.clock.now, purpose=purpose, emergency_reason=emergency_reason)

    def headers(self, user: str, purpose: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, purpose)}", **extra}

    def principal(self, user: str, purpose: str | None = None, **extra: str) -> Principal:
        return self.gate.authenticate(self.headers(user, purpose, **extra))

    async def _run(self, session: Session, work: Any) -> Any:
        try:
            result = work()
        except BindeledError as exc:
            await session.finish(status=exc.status, error=exc)
            raise
        await session.finish(status=200)
        return result

    async def search(self, headers: dict[str, str], resource_type: str, found: Sequence[dict[str, Any]]) -> list[Any]:
        """What the repository will do for a search: authorise, filter each match, finish."""
        session = self.gate.session(self.gate.authenticate(headers), "corr-search", "req-1")

        def work() -> list[Any]:
            session.authorize("search", resource_type)
            items = [(target_of(r, CPR_OF.get, ORGS.get), r) for r in found]
            return session.filter("search", resource_type, items)

        result: list[Any] = await self._run(session, work)
        return result

    async def read(self, headers: dict[str, str], resource: dict[str, Any]) -> dict[str, Any]:
        session = self.gate.session(self.gate.authenticate(headers), "corr-read", "req-2")
        kind = str(resource["resourceType"])

        def work() -> dict[str, Any]:
            session.check("read", kind, target_of(resource, CPR_OF.get, ORGS.get))
            return resource

        result: dict[str, Any] = await self._run(session, work)
        return result
