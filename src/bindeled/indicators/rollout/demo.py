"""The demo's rollout: a realistic mix of municipalities and GP practices that are live, planned or not ready.

Readiness in the rollout view is derived, so the demo makes the facts true rather than writing answers:
it registers trust agreements and system clients (through the security registers' store, as an
administrator would), sends test messages through the hub (as the organisation's system would), and
writes only the planned go-live dates and live flags to the rollout register. The municipalities are
shuffled by the seed: about a quarter live, a third planned with some checks still missing, the rest
not started; the region is live; two dozen GP practices plan MedCom go-live, most with a system registered.
"""

from __future__ import annotations

import base64
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec

from ...fhir import jsonio
from ...fhir.jsonio import Resource
from ...messaging.acknowledgement import AckIds, ResponseCode, build_acknowledgement
from ...messaging.hub.receive import Hub, HubUnavailable
from ...messaging.hub.synthetic import Citizen, Party, hospital_notification
from ...messaging.messages import Message
from ...messaging.profiles import ValidatorPool
from ...registry.model import Level
from ...registry.tree import SorTree
from ...security.facts import CPR_SYSTEM, identifier_value
from ...security.register_documents import ClientDoc, TrustAgreementDoc
from ...security.register_store import RegisterStore
from .plans import RolloutPlan, RolloutRegister
from .readiness import Organisation, organisations
from .services import SERVICES

if TYPE_CHECKING:
    from ...api.services import Services

__all__ = ["DemoRollout", "seed_rollout"]

log = logging.getLogger("bindeled.demo")

_CARE_SYSTEM = "Syntetisk omsorgsjournal"
_PRACTICE_SYSTEM = "Syntetisk lægesystem"
_HOSPITAL_SYSTEM = "Syntetisk sundhedsplatform"


@dataclass
class DemoRollout:
    """What the demo registered for the rollout view."""

    plans: int = 0
    agreements: int = 0
    clients: int = 0
    test_messages: int = 0


def _public_jwks(rng: random.Random) -> dict[str, Any]:
    """A fresh synthetic P-256 public key (the private half is not kept: the demo systems never log in)."""
    numbers = ec.derive_private_key(rng.randrange(1, 2**255), ec.SECP256R1()).public_key().public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()

    return {"keys": [{"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y), "use": "sig"}]}


def _unit_party(tree: SorTree, org: Organisation) -> Party | None:
    """The organisation's first unit that has its own or an inherited GLN (it sends the test message)."""
    for code in org.units:
        ean = tree.resolve(code).ean
        if ean is not None:
            return Party(code, ean.value.gln, tree[code].name)
    return None


def _institution(tree: SorTree, org: Organisation) -> str:
    found = [c for c in sorted(org.codes) if tree[c].level is Level.INSTITUTION]
    return found[0] if found else org.owner.sor_code


class _Seeder:
    def __init__(self, svc: Services, tree: SorTree, now: datetime, rng: random.Random) -> None:
        self.svc, self.tree, self.now, self.rng = svc, tree, now, rng
        self.registers, self.plans = RegisterStore(svc.store), RolloutRegister(svc.store)
        self.done = DemoRollout()
        self.hub: Hub | None = None
        self.hub_missing = False

    async def agreement(self, org: Organisation, purposes: Sequence[str]) -> None:
        for purpose in purposes:
            doc = TrustAgreementDoc(
                id=f"rollout-{org.owner.sor_code}-{purpose.lower()}",
                organisation_sor=_institution(self.tree, org),
                system_name=_CARE_SYSTEM,
                purpose=purpose,
                municipality_code=org.owner.municipality_code,
                valid_from=self.now - timedelta(days=120),
                last_review=self.now - timedelta(days=self.rng.randrange(10, 90)),
            )
            await self.registers.put("trust-agreements", doc, self.now)
            self.done.agreements += 1

    async def client(self, org: Organisation, system: str, purposes: Sequence[str]) -> None:
        doc = ClientDoc(
            id=f"rollout-{org.owner.sor_code}",
            jwks=_public_jwks(self.rng),
            system_name=system,
            organisation_sor=_institution(self.tree, org),
            organisation_name=org.owner.name,
            scopes="system/*.rs system/Bundle.c",
            purposes=sorted(purposes),
        )
        await self.registers.put("clients", doc, self.now)
        self.done.clients += 1

    async def plan(self, org: Organisation, service: str, *, live: bool, days: int | None = None) -> None:
        go_live: date | None = None
        if days is not None:
            go_live = (self.now + timedelta(days=days)).date()
        elif live:  # the day it went live
            go_live = (self.now - timedelta(days=self.rng.randrange(30, 400))).date()
        plan = RolloutPlan(organisation_sor=org.owner.sor_code, service=service, planned_go_live=go_live, live=live)
        await self.plans.put(plan, self.now)
        self.done.plans += 1

    def _hub(self) -> Hub | None:
        if self.hub is None and not self.hub_missing:
            settings = self.svc.settings
            folder = Path(settings.medcom_packages_dir or settings.fhir_package_cache).expanduser()
            pool = ValidatorPool(self.svc.definitions, folder)
            self.hub = Hub(self.svc.store, self.svc.repo, self.svc.definitions, pool)
        return self.hub

    async def test_message(self, org: Organisation, hospital: Party, citizen: Citizen) -> None:
        """A test exchange: a hospital's test letter to the organisation, and the organisation's system
        acknowledging it through the hub (the letter the rollout view then finds from its GLN)."""
        party, hub = _unit_party(self.tree, org), self._hub()
        if party is None or hub is None:
            return
        letter = hospital_notification(
            "STIN", hospital=hospital, municipality=party, citizen=citizen, admitted=self.now, rng=self.rng
        )
        answer = build_acknowledgement(Message(letter), ResponseCode.OK, _ids(self.rng), self.now)
        try:
            for bundle in (letter, answer):
                raw = jsonio.encode(bundle)
                await hub.receive(raw, "application/fhir+json", jsonio.decode(raw), acting_sor=None, admin=True)
        except HubUnavailable:
            log.warning("no MedCom packages (setting medcom_packages_dir): the demo sends no test messages")
            self.hub_missing, self.hub = True, None
            return
        self.done.test_messages += 1


def _ids(rng: random.Random) -> AckIds:
    return AckIds(*(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(4)))


def _citizen(patients: Sequence[Resource]) -> Citizen | None:
    """A demo citizen the test letters are about (synthetic, like every citizen in the demo)."""
    for patient in patients:
        cpr = identifier_value(patient, CPR_SYSTEM)
        name = (patient.get("name") or [{}])[0]
        if cpr:
            return Citizen(str(cpr), " ".join(name.get("given", [])), str(name.get("family", "")))
    return None


def _receiver(tree: SorTree, on: date) -> Party | None:
    """A hospital section (its own or inherited GLN): where the test messages go."""
    for entity in tree.active(on):
        ean = tree.resolve(entity.sor_code).ean if entity.shak is not None and len(entity.shak) == 7 else None
        if entity.level is Level.UNIT and ean is not None:
            return Party(entity.sor_code, ean.value.gln, entity.name)
    return None


_ALL_OVERVIEW = ("ESP_APPOINTMENTS", "ESP_STAMKORT", "ESP_PLANS")


async def _municipalities(s: _Seeder, found: list[Organisation], receiver: Party | None, who: Citizen | None) -> None:
    s.rng.shuffle(found)
    live, planned = found[: len(found) // 4], found[len(found) // 4 : len(found) // 4 + len(found) // 3]
    for n, org in enumerate(live):
        with_lab = n % 2 == 0
        await s.agreement(org, [*_ALL_OVERVIEW, *(["LAB_READ"] if with_lab else [])])
        await s.client(org, _CARE_SYSTEM, [*_ALL_OVERVIEW, "MESSAGING", *(["LAB_READ"] if with_lab else [])])
        if receiver is not None and who is not None:
            await s.test_message(org, receiver, who)
        for service in ("overview", "messaging", *(["lab"] if with_lab else [])):
            await s.plan(org, service, live=True)
    for n, org in enumerate(planned):
        await s.agreement(org, _ALL_OVERVIEW)
        if n % 2 == 0:
            await s.client(org, _CARE_SYSTEM, [*_ALL_OVERVIEW, "MESSAGING"])
        if n % 3 == 0 and receiver is not None and who is not None:
            await s.test_message(org, receiver, who)
        for service in ("overview", "messaging"):
            await s.plan(org, service, live=False, days=s.rng.randrange(20, 200))
    for org in found[len(live) + len(planned) :: 3]:
        await s.plan(org, "overview", live=False, days=s.rng.randrange(250, 500))


async def _practices(s: _Seeder, found: list[Organisation]) -> None:
    """Some practices have registered their system and plan MedCom go-live; none has run its test yet."""
    chosen = s.rng.sample(found, min(len(found), 24))
    for n, org in enumerate(chosen):
        if n % 3 != 2:
            await s.client(org, _PRACTICE_SYSTEM, ["MESSAGING", *_ALL_OVERVIEW])
        await s.plan(org, "messaging", live=False, days=s.rng.randrange(14, 240))


async def seed_rollout(
    svc: Services, tree: SorTree, patients: Sequence[Resource], *, now: datetime, seed: int
) -> DemoRollout:
    """Register the demo's rollout facts and plans (runs as system work, after the demo's MedCom traffic)."""
    s = _Seeder(svc, tree, now, random.Random(seed * 7919 + 11))
    everyone = organisations(tree, now.date())
    receiver, who = _receiver(tree, now.date()), _citizen(patients)
    await _municipalities(s, [o for o in everyone if o.kind == "municipality"], receiver, who)
    for org in (o for o in everyone if o.kind == "region"):
        await s.client(org, _HOSPITAL_SYSTEM, ["SJ_READ", "MESSAGING", "LAB_READ", *_ALL_OVERVIEW])
        for service in SERVICES:
            await s.plan(org, service.id, live=True)
    await _practices(s, [o for o in everyone if o.kind == "practice"])
    return s.done
