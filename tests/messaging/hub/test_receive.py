"""The receiving step on a real store (both backends): one transaction, nothing lost, nothing doubled."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import anyio
import pytest

from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.messaging.hub.endpoints import ReceiverEndpoint, endpoint_id, endpoint_resource
from bindeled.messaging.hub.receive import Hub, Receipt
from bindeled.messaging.hub.status import message_status
from bindeled.messaging.messages import CPR_SYSTEM, GLN_SYSTEM, SOR_SYSTEM
from bindeled.messaging.profiles import ValidatorPool
from bindeled.store.guard import as_system
from bindeled.store.repository import PendingWrite
from tests.messaging.hub.conftest import Stored

pytestmark = pytest.mark.anyio

HOSPITAL = ("265161000016000", "5790000209354")
MUNICIPALITY = ("953741000016009", "5790001348120")


async def _register(stored: Stored) -> None:
    for sor, gln in (HOSPITAL, MUNICIPALITY):
        org = {
            "resourceType": "Organization",
            "id": f"sor-{sor}",
            "identifier": [{"system": SOR_SYSTEM, "value": sor}, {"system": GLN_SYSTEM, "value": gln}],
            "active": True,
        }
        await stored.repo.update("Organization", org["id"], org)
        endpoint = ReceiverEndpoint(gln, sor, "mailbox", "", frozenset({("hospital-notification-message", "3.0")}))
        await stored.repo.update("Endpoint", endpoint_id(gln), endpoint_resource(endpoint))


def _hub(stored: Stored, definitions: Definitions, pool: ValidatorPool) -> Hub:
    return Hub(stored.store, stored.repo, definitions, pool)


def _letter(clean_hn: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(clean_hn)
    old = bundle["entry"][0]["resource"]["id"]
    new = str(uuid.uuid4())
    bundle["entry"][0]["resource"]["id"] = new
    for entry in bundle["entry"]:
        for target in entry["resource"].get("target", []):
            if target["reference"] == f"MessageHeader/{old}":
                target["reference"] = f"MessageHeader/{new}"
    bundle["id"] = str(uuid.uuid4())
    return bundle


async def _receive(hub: Hub, bundle: dict[str, Any]) -> Receipt:
    raw = jsonio.encode(bundle)
    return await hub.receive(raw, "application/fhir+json", bundle, acting_sor=HOSPITAL[0], admin=False)


async def _outbox(stored: Stored) -> list[tuple[Any, ...]]:
    return await stored.store.fetch_all("SELECT message_id, is_ack FROM hub_outbox ORDER BY is_ack")


async def _patients(stored: Stored, cpr: str) -> int:
    async with stored.store.transaction() as tx:
        return len(await stored.repo.matches(tx, "Patient", f"identifier={CPR_SYSTEM}|{cpr}", limit=None))


async def _count(stored: Stored, table: str) -> int:
    return int((await stored.store.fetch_all(f"SELECT COUNT(*) FROM {table}"))[0][0])


async def test_a_letter_is_stored_and_queued_with_its_acknowledgement(
    stored: Stored, definitions: Definitions, pool: ValidatorPool, clean_hn: dict[str, Any]
) -> None:
    with as_system():
        await _register(stored)
        bundle = _letter(clean_hn)
        receipt = await _receive(_hub(stored, definitions, pool), bundle)
    assert receipt.verdict == "processed" and receipt.response_code == "ok"
    letter = bundle["entry"][0]["resource"]["id"]
    rows = await _outbox(stored)
    assert next((str(m), int(a)) for m, a in rows) == (letter, 0)
    assert [int(a) for _, a in rows] == [0, 1]
    body = (await stored.store.fetch_all("SELECT body FROM hub_message WHERE message_id = $1", (letter,)))[0][0]
    assert bytes(body) == jsonio.encode(bundle)  # kept exactly as received
    hops = [e["subtype"][0]["code"] for e in await message_status(stored.store, letter)]
    assert hops == ["received", "validated", "acknowledged"]


async def test_a_failure_inside_the_transaction_leaves_nothing_behind(
    stored: Stored, definitions: Definitions, pool: ValidatorPool, clean_hn: dict[str, Any]
) -> None:
    async def crash_on_stays(pending: PendingWrite) -> None:
        if pending.resource_type == "Encounter":
            raise RuntimeError("the disk is full")

    with as_system():
        await _register(stored)
        bundle = _letter(clean_hn)
        stored.repo.write_rules.append(crash_on_stays)
        with pytest.raises(RuntimeError):
            await _receive(_hub(stored, definitions, pool), bundle)
        for table in ("hub_message", "hub_envelope", "hub_hop", "hub_outbox", "hub_stay"):
            assert await _count(stored, table) == 0, table
        assert await _patients(stored, bundle["entry"][1]["resource"]["identifier"][0]["value"]) == 0
        stored.repo.write_rules.remove(crash_on_stays)
        receipt = await _receive(_hub(stored, definitions, pool), bundle)  # the sender tries again
    assert receipt.verdict == "processed"
    assert len(await _outbox(stored)) == 2


async def test_concurrent_copies_of_one_letter_are_processed_once(
    stored: Stored, definitions: Definitions, pool: ValidatorPool, clean_hn: dict[str, Any]
) -> None:
    with as_system():
        await _register(stored)
    bundle = _letter(clean_hn)
    copies = [dict(bundle, id=str(uuid.uuid4())) for _ in range(4)]
    hub = _hub(stored, definitions, pool)
    receipts: list[Receipt] = []

    async def send(copy_: dict[str, Any]) -> None:
        with as_system():
            receipts.append(await _receive(hub, copy_))

    async with anyio.create_task_group() as group:
        for item in copies:
            group.start_soon(send, item)
    assert sorted(r.verdict for r in receipts) == ["duplicate", "duplicate", "duplicate", "processed"]
    assert {r.response_code for r in receipts} == {"ok"}
    rows = await _outbox(stored)
    assert sum(1 for _, is_ack in rows if int(is_ack) == 0) == 1
    assert await _count(stored, "hub_stay") == 1


async def test_the_citizens_patient_is_created_once(
    stored: Stored, definitions: Definitions, pool: ValidatorPool, clean_hn: dict[str, Any]
) -> None:
    with as_system():
        await _register(stored)
        hub = _hub(stored, definitions, pool)
        await _receive(hub, _letter(clean_hn))
        await _receive(hub, _letter(clean_hn))
        cpr = clean_hn["entry"][1]["resource"]["identifier"][0]
        assert cpr["system"] == CPR_SYSTEM
        assert await _patients(stored, cpr["value"]) == 1
