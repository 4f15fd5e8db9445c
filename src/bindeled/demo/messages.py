"""The demo's MedCom traffic: receiving endpoints for the region's units, and HospitalNotifications through the hub.

Every hospital section and municipal care unit with a GLN gets a mailbox in the endpoint register that
accepts every message type the hub knows, so letters are queued and fetched rather than pushed to
addresses that do not exist. The letters are about the demo's own citizens — admitted to a hospital
section, now and then on leave, and discharged again — and go through the same receiving step as
``POST /fhir/$process-message`` (validation, acknowledgement, queueing, the stay in the overview).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..fhir import jsonio
from ..fhir.jsonio import Resource
from ..messaging.hub.endpoints import ReceiverEndpoint, endpoint_resource
from ..messaging.hub.receive import Hub, HubUnavailable
from ..messaging.hub.synthetic import Citizen, Party, hospital_notification
from ..messaging.profiles import MESSAGE_TYPES, ValidatorPool
from ..registry.model import Level
from ..registry.tree import SorTree
from ..security.facts import identifier_value
from .patients import CPR_SYSTEM

if TYPE_CHECKING:
    from ..api.services import Services

__all__ = ["DemoParties", "demo_parties", "load_demo_messages"]

log = logging.getLogger("bindeled.demo")


@dataclass(frozen=True, slots=True)
class DemoParties:
    """Who writes to whom: hospital sections and municipal care units, each with its GLN."""

    hospitals: tuple[Party, ...]
    municipalities: tuple[Party, ...]


def demo_parties(tree: SorTree, on: datetime) -> DemoParties:
    """The region's hospital sections (7-character SHAK) and municipal care units that have a GLN."""
    hospitals: list[Party] = []
    municipalities: list[Party] = []
    for entity in tree.active(on.date()):
        if entity.level is not Level.UNIT:
            continue
        ean = tree.resolve(entity.sor_code).ean
        if ean is None:
            continue
        party = Party(entity.sor_code, ean.value.gln, entity.name)
        if entity.shak is not None and len(entity.shak) == 7:
            hospitals.append(party)
        elif entity.ydernummer is None and tree.owner(entity.sor_code).municipality_code is not None:
            municipalities.append(party)
    return DemoParties(tuple(hospitals), tuple(municipalities))


def _citizen(patient: Resource) -> Citizen | None:
    cpr = identifier_value(patient, CPR_SYSTEM)
    if not cpr:
        return None
    name = (patient.get("name") or [{}])[0]
    return Citizen(str(cpr), " ".join(name.get("given", [])), str(name.get("family", "")))


async def _register_mailboxes(svc: Services, parties: DemoParties) -> None:
    accepts = frozenset((t.event, t.version) for t in MESSAGE_TYPES)
    async with svc.store.transaction() as tx:
        for party in {p.gln: p for p in (*parties.hospitals, *parties.municipalities)}.values():
            endpoint = ReceiverEndpoint(party.gln, party.sor, "mailbox", "", accepts)
            resource = endpoint_resource(endpoint, name=f"{party.name} (synthetic mailbox)")
            await svc.repo.update_in(tx, "Endpoint", resource["id"], resource)


async def load_demo_messages(
    svc: Services, tree: SorTree, patients: list[Resource], *, count: int, seed: int, start: datetime
) -> int:
    """Send ``count`` HospitalNotifications about the demo citizens through the hub; returns how many it took.

    Runs as system work (the caller sets it up). Each stay is admitted (STIN) and later discharged (SLHJ),
    one in ten going on leave (STOR) first; a third stay open, so the overview shows current admissions.
    """
    parties = demo_parties(tree, start)
    citizens = [c for c in map(_citizen, patients) if c is not None]
    if not parties.hospitals or not parties.municipalities or not citizens:
        return 0
    await _register_mailboxes(svc, parties)
    folder = Path(svc.settings.medcom_packages_dir or svc.settings.fhir_package_cache).expanduser()  # noqa: ASYNC240
    hub = Hub(svc.store, svc.repo, svc.definitions, ValidatorPool(svc.definitions, folder))
    rng = random.Random(seed)
    sent = 0
    at = start
    while sent < count:
        citizen = rng.choice(citizens)
        hospital, municipality = rng.choice(parties.hospitals), rng.choice(parties.municipalities)
        admitted = at
        events = ["STIN"]
        if rng.random() < 0.1:
            events.append("STOR")
        if rng.random() < 0.67:
            events.append("SLHJ")
        for event in events[: count - sent]:
            bundle = hospital_notification(
                event, hospital=hospital, municipality=municipality, citizen=citizen, admitted=admitted, at=at, rng=rng
            )
            raw = jsonio.encode(bundle)
            try:
                await hub.receive(raw, "application/fhir+json", jsonio.decode(raw), acting_sor=None, admin=True)
            except HubUnavailable:
                log.warning("no MedCom packages (setting medcom_packages_dir): the demo has no message traffic")
                return sent
            sent += 1
            at += timedelta(minutes=rng.randrange(30, 600))
    return sent
