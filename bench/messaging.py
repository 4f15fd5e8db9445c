"""Message-hub benchmark: MedCom letters per second through the whole hub, and receipt→delivery times.

For each backend (``sqlite`` and ``postgresql`` with the database outbox, ``nats`` = PostgreSQL with
JetStream delivery): start ``--servers`` real ``bindeled serve --dev`` processes (default 2, one per core:
one Python process is bound to one core by its interpreter lock) on one fresh database, each with its
own delivery process (on PostgreSQL they share the outbox with ``SKIP LOCKED``), register a
hospital and a municipality that both receive by push at HTTP receivers run by this script, and let
``--senders`` concurrent sender systems post fresh copies of the official HospitalNotification example
(synthetic CPR numbers) to ``$process-message``. Every letter is validated, acknowledged, stored,
queued, and pushed to the municipality; every Acknowledgement is pushed back to the hospital. The run
ends when both receivers have everything.

Reported: sustained messages/s (letters over the time from the first post to the last delivery), and
p50/p99 from receipt (the receiving transaction) to delivery of the letter and to delivery of the
Acknowledgement to the sender, read from the hub's outbox; and, measured on this script's clock, from
the sender getting its answer (the receiving transaction has committed) to the letter's arrival at
the receiver: the delivery side's own share. Baseline, in the same run: the same payloads
written straight into a plain table of the same database (one transaction per 100), or published
straight to a JetStream stream (awaiting each publish acknowledgement, 64 in flight).

The machine these runs share is often busy, so wall-clock rates say little about the hub. The bench
also reports the CPU time per letter of the hub's server processes and of their delivery processes
(``/proc/<pid>/stat``, user + system, every thread, from the first post to the last delivery, idle
polling included) and of the bench itself, and from it the letters/s the hub's own processes could
carry on two otherwise idle cores (2,000 CPU ms per second / hub CPU ms per letter; the database
server's CPU is not in it, so it is an upper bound), and the load average at the end of the run.

    .venv/bin/python -m bench.messaging --messages 100000 --senders 16 --servers 2
    .venv/bin/python -m bench.messaging --messages 500 --backends sqlite     # a quick run
    .venv/bin/python -m bench.messaging --messages 100000 --outbox-only      # the delivering half alone

``--outbox-only`` measures the delivering half by itself: the bench queues the letters straight into the
outbox with :func:`~bindeled.messaging.delivery.outbox.enqueue` (one transaction per letter, ``--senders``
at a time), so receipt→delivery is the outbox's own time (no Acknowledgements are sent in that mode).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats

from bindeled.fhir import jsonio
from bindeled.messaging.delivery.outbox import Outgoing, enqueue
from bindeled.messaging.hub.endpoints import ReceiverEndpoint, endpoint_id, endpoint_resource
from bindeled.messaging.messages import CPR_SYSTEM, GLN_SYSTEM, SOR_SYSTEM
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from bindeled.security.devissuer import DemoUser
from bindeled.store.factory import open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HN_EXAMPLE = SHARED / "standards/medcom/examples/hospitalnotification/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"
HN_ID_FIXES = {"t33cef33-": "a33cef33-", "o4cdf292-": "b4cdf292-", "o7056980-": "c7056980-"}
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HOSPITAL = ("265161000016000", "5790000209354")
MUNICIPALITY = ("953741000016009", "5790001348120")
HN = "hospital-notification-message"


# -- the letters --------------------------------------------------------------------------------------


def synthetic_cpr(rnd: random.Random) -> str:
    """Day of month + 60: never a real person's number."""
    return f"{rnd.randint(61, 88):02d}{rnd.randint(1, 12):02d}{rnd.randint(0, 99):02d}{rnd.randint(0, 9999):04d}"


def letters(count: int, seed: int = 6) -> list[bytes]:
    """``count`` fresh HospitalNotifications: new envelope and letter ids, one of 1,000 synthetic citizens."""
    text = HN_EXAMPLE.read_text(encoding="utf-8")
    for old, new in HN_ID_FIXES.items():
        text = text.replace(old, new)
    template = jsonio.decode(text)
    header_id = template["entry"][0]["resource"]["id"]
    rnd = random.Random(seed)
    citizens = [synthetic_cpr(rnd) for _ in range(1000)]
    (old_cpr,) = [
        i["value"]
        for e in template["entry"]
        if e["resource"]["resourceType"] == "Patient"
        for i in e["resource"].get("identifier", [])
        if i.get("system") == CPR_SYSTEM
    ]
    raw = jsonio.encode(template).decode()
    out = []
    for n in range(count):
        body = raw.replace(header_id, str(uuid.uuid4())).replace(old_cpr, citizens[n % len(citizens)])
        bundle = jsonio.decode(body)
        bundle["id"] = str(uuid.uuid4())
        out.append(jsonio.encode(bundle))
    return out


# -- receivers ----------------------------------------------------------------------------------------


class Receiver:
    """An HTTP endpoint (asyncio, in this process) that counts the distinct letters pushed to it."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()
        self.arrived: dict[bytes, float] = {}
        self.last = 0.0
        self.port = 0
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/medcom"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.connections):
            writer.close()  # the handler's read ends, and it returns

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                # The letter's MessageHeader id is the first "id" after "MessageHeader" in the Bundle.
                at = body.find(b'"MessageHeader"')
                start = body.find(b'"id":"', at) + 6
                message_id = body[start : body.find(b'"', start)]
                self.seen.add(message_id)
                self.last = time.monotonic()
                self.arrived.setdefault(message_id, self.last)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()


# -- the hub ------------------------------------------------------------------------------------------


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'hub.db'}"
        return
    name = f"bindeled_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, every thread (Linux ``/proc``); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the server's delivery process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Hub:
    """The running hub: the API base of each server process, and the processes whose CPU time counts."""

    bases: list[str]
    server_pids: list[int]

    @property
    def base(self) -> str:
        return self.bases[0]

    def cpu(self) -> tuple[float, float]:
        """(servers, delivery) CPU seconds so far; each server's delivery process is its child."""
        servers = sum(cpu_seconds(pid) for pid in self.server_pids)
        delivery = sum(cpu_seconds(child) for pid in self.server_pids for child in children_of(pid))
        return servers, delivery


def _start(database_url: str, folder: Path, env: dict[str, str], number: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    log = open(folder / f"hub-{number}.log", "wb")  # noqa: SIM115 - the child keeps it open
    command = [sys.executable, "-m", "bindeled", "serve", "--dev", "--port", str(port), "--database", database_url]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    log.close()
    base = f"http://127.0.0.1:{port}/fhir"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the hub did not start; see {log.name}")
        try:
            if httpx.get(f"{base}/metadata", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)


@contextmanager
def hub(database_url: str, folder: Path, *, nats_stream: str, servers: int = 1) -> Iterator[Hub]:
    """``servers`` hub processes on one database (one after the other: the first migrates it)."""
    env = {
        **os.environ,
        "BINDELED_DATA_DIR": str(folder / "data"),
        "BINDELED_MEDCOM_PACKAGES_DIR": str(SHARED / "standards" / "fhir-packages"),
        "BINDELED_LOG_LEVEL": "WARNING",
        "BINDELED_DELIVERY_CONCURRENCY": "64",
        "BINDELED_DELIVERY_POLL_SECONDS": "0.02",
    }
    if nats_stream:
        env |= {"BINDELED_DELIVERY_BACKEND": "nats", "BINDELED_NATS_STREAM": nats_stream}
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for number in range(servers):
            process, base = _start(database_url, folder, env, number)
            processes.append(process)
            bases.append(base)
        yield Hub(bases, [p.pid for p in processes])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def _token(folder: Path, user: DemoUser | str, purpose: str | None = None) -> str:
    issuer = LocalIssuer(folder / "data", DEV_ISSUER, DEV_AUDIENCE)
    found = demo_user(user) if isinstance(user, str) else user
    if purpose is None:
        return issuer.mint(found, now=datetime.now(UTC))
    return issuer.mint(found, now=datetime.now(UTC), purpose=purpose)  # type: ignore[arg-type]


def register(base: str, folder: Path, municipality: Receiver, hospital: Receiver) -> None:
    headers = {"Authorization": f"Bearer {_token(folder, 'admin')}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as admin:
        for (sor, gln), receiver in ((HOSPITAL, hospital), (MUNICIPALITY, municipality)):
            org = {
                "resourceType": "Organization",
                "id": f"sor-{sor}",
                "identifier": [{"system": SOR_SYSTEM, "value": sor}, {"system": GLN_SYSTEM, "value": gln}],
                "active": True,
                "name": f"Bench unit {sor}",
            }
            admin.put(f"/Organization/sor-{sor}", json=org).raise_for_status()
            endpoint = ReceiverEndpoint(gln, sor, "push", receiver.url, frozenset({(HN, "3.0")}))
            admin.put(f"/Endpoint/{endpoint_id(gln)}", json=endpoint_resource(endpoint)).raise_for_status()


def sender_token(folder: Path) -> str:
    claims = {
        "user_type": "system",
        "name": "Bench sender",
        "sor": HOSPITAL[0],
        "org_name": "Bench hospital",
        "system_name": "BenchSender",
        "system_version": "1.0",
    }
    return _token(folder, DemoUser("bench-sender", claims, "system/*.cruds"), "MESSAGING")


def letter_id(payload: bytes) -> bytes:
    at = payload.find(b'"MessageHeader"')
    start = payload.find(b'"id":"', at) + 6
    return payload[start : payload.find(b'"', start)]


async def send_all(
    bases: list[str], token: str, payloads: list[bytes], senders: int, answered: dict[bytes, float]
) -> tuple[float, int]:
    """Post every letter from ``senders`` concurrent clients; returns (start time, refused count).

    Sender ``n`` posts to server ``n mod len(bases)`` (as a load balancer in front of the hub would).

    ``answered`` gets the time each letter's answer (the hub's Acknowledgement, after its commit) came.
    """
    queue = list(reversed(payloads))
    refused = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    async def sender(base: str) -> None:
        nonlocal refused
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            while queue:
                payload = queue.pop()
                answer = await client.post("/$process-message", content=payload)
                answered[letter_id(payload)] = time.monotonic()
                refused += answer.status_code != 200 or b'"code":"ok"' not in answer.content

    started = time.monotonic()
    await asyncio.gather(*(sender(bases[n % len(bases)]) for n in range(senders)))
    return started, refused


async def outbox_times(database_url: str) -> dict[str, list[float]]:
    """Seconds from receipt to delivery, for letters and for Acknowledgements, from the hub's outbox."""
    sql = "SELECT is_ack, enqueued, delivered_at FROM hub_outbox WHERE delivered_at <> ''"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(sql).fetchall()
    else:
        conn = await asyncpg.connect(database_url)
        try:
            rows = [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()
    found: dict[str, list[float]] = {"letter": [], "ack": []}
    for is_ack, enqueued, delivered in rows:
        took = (datetime.fromisoformat(delivered) - datetime.fromisoformat(enqueued)).total_seconds()
        found["ack" if is_ack else "letter"].append(took)
    return found


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] if ordered else float("nan")


# -- baselines ----------------------------------------------------------------------------------------


async def baseline_database(database_url: str, payloads: list[bytes]) -> float:
    """The same payloads straight into a plain table, 100 per transaction: letters per second."""
    rows = [(str(uuid.uuid4()), p) for p in payloads]
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, body BLOB)")
            started = time.perf_counter()
            for i in range(0, len(rows), 100):
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO bench_raw VALUES (?, ?)", rows[i : i + 100])
                conn.execute("COMMIT")
            return len(rows) / (time.perf_counter() - started)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_raw (id text PRIMARY KEY, body bytea)")
        started = time.perf_counter()
        for i in range(0, len(rows), 100):
            async with conn.transaction():
                await conn.executemany("INSERT INTO bench_raw VALUES ($1, $2)", rows[i : i + 100])
        return len(rows) / (time.perf_counter() - started)
    finally:
        await conn.close()


async def baseline_jetstream(payloads: list[bytes]) -> float:
    """The same payloads published straight to a JetStream stream, 64 in flight: letters per second."""
    stream = f"BENCH_RAW_{uuid.uuid4().hex[:8].upper()}"
    nc = await nats.connect("nats://127.0.0.1:4222")
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream}.x"])
    try:
        started = time.perf_counter()
        for i in range(0, len(payloads), 64):
            await asyncio.gather(
                *(
                    js.publish(f"{stream}.x", p, headers={"Nats-Msg-Id": str(uuid.uuid4())})
                    for p in payloads[i : i + 64]
                )
            )
        return len(payloads) / (time.perf_counter() - started)
    finally:
        await js.delete_stream(stream)
        await nc.close()


# -- one run ------------------------------------------------------------------------------------------


async def queue_all(db_url: str, payloads: list[bytes], senders: int, answered: dict[bytes, float]) -> float:
    """Queue every letter straight into the outbox (one transaction each, as a receipt would); start time."""
    store = open_store(db_url, migrate=False)
    await store.open()
    queue = list(reversed(payloads))

    async def sender() -> None:
        while queue:
            payload = queue.pop()
            message_id = letter_id(payload)
            envelope = jsonio.decode_stored(payload)["id"]
            item = Outgoing(message_id.decode(), envelope, HN, HOSPITAL[1], MUNICIPALITY[1], payload, False)
            async with store.transaction() as tx:
                await enqueue(tx, item)
            answered[message_id] = time.monotonic()

    started = time.monotonic()
    try:
        await asyncio.gather(*(sender() for _ in range(senders)))
    finally:
        await store.close()
    return started


async def _run(
    hub: Hub, folder: Path, payloads: list[bytes], senders: int, db_url: str, outbox_only: bool
) -> dict[str, Any]:
    municipality, hospital = Receiver(), Receiver()
    await municipality.start()
    await hospital.start()
    try:
        await asyncio.to_thread(register, hub.base, folder, municipality, hospital)
        answered: dict[bytes, float] = {}
        cpu_before, own_before = hub.cpu(), time.process_time()
        if outbox_only:
            started, refused = await queue_all(db_url, payloads, senders, answered), 0
        else:
            started, refused = await send_all(hub.bases, sender_token(folder), payloads, senders, answered)
        posted = time.monotonic()
        expected = len(payloads) - refused
        acks = 0 if outbox_only else len(payloads)
        deadline = time.monotonic() + 600
        while len(municipality.seen) < expected or len(hospital.seen) < acks:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        cpu_after, own_after = hub.cpu(), time.process_time()
        ended = max(municipality.last, hospital.last)
        times = await outbox_times(db_url)
        after_answer = [municipality.arrived[m] - t for m, t in answered.items() if m in municipality.arrived]
        count = len(payloads)
        return {
            "answer_p50": pct(after_answer, 0.5),
            "answer_p99": pct(after_answer, 0.99),
            "letters": count,
            "refused": refused,
            "delivered": len(municipality.seen),
            "acks": len(hospital.seen),
            "receive_rate": count / (posted - started),
            "rate": len(municipality.seen) / (ended - started),
            "letter_p50": pct(times["letter"], 0.5),
            "letter_p99": pct(times["letter"], 0.99),
            "ack_p50": pct(times["ack"], 0.5),
            "ack_p99": pct(times["ack"], 0.99),
            "server_cpu_ms": 1000 * (cpu_after[0] - cpu_before[0]) / count,
            "delivery_cpu_ms": 1000 * (cpu_after[1] - cpu_before[1]) / count,
            "bench_cpu_ms": 1000 * (own_after - own_before) / count,
        }
    finally:
        await municipality.stop()
        await hospital.stop()
        await asyncio.sleep(0.1)  # let the handlers see their connections close


def run(backend: str, payloads: list[bytes], senders: int, outbox_only: bool, servers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bindeled-bench-msg-") as tmp:
        folder = Path(tmp)
        stream = f"BENCH_{uuid.uuid4().hex[:8].upper()}" if backend == "nats" else ""
        with database("sqlite" if backend == "sqlite" else "postgresql", folder) as url:
            with hub(url, folder, nats_stream=stream, servers=servers) as running:
                result = asyncio.run(_run(running, folder, payloads, senders, url, outbox_only))
            if backend == "nats":
                result["baseline"] = asyncio.run(baseline_jetstream(payloads))
                asyncio.run(_delete_stream(stream))
            else:
                result["baseline"] = asyncio.run(baseline_database(url, payloads))
        return result


async def _delete_stream(stream: str) -> None:
    nc = await nats.connect("nats://127.0.0.1:4222")
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


def capacity(result: dict[str, Any]) -> float:
    """Letters/s the hub's own CPU time would allow on two otherwise idle cores (2,000 CPU ms per second).

    The database server's CPU is not counted (nor the bench's senders and receivers): an upper bound
    for the hub's processes, honest where the machine is shared and wall-clock rates are not.
    """
    per_letter = result["server_cpu_ms"] + result["delivery_cpu_ms"]
    return 2000 / per_letter if per_letter > 0 else float("nan")


def load() -> str:
    """The 1-minute load average at the end of a run (the machine is shared)."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument(
        "--servers", type=int, default=2, help="hub processes on the one database (each with its delivery process)"
    )
    parser.add_argument("--backends", default="sqlite,postgresql,nats")
    parser.add_argument(
        "--outbox-only",
        action="store_true",
        help="the delivering half alone: queue the letters straight into the outbox, no $process-message",
    )
    args = parser.parse_args()
    payloads = letters(args.messages)
    now = datetime.now(UTC)
    print(f"{now:%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    mode = "queued straight into the outbox" if args.outbox_only else "posted to $process-message"
    print(f"{args.messages} letters, {args.senders} senders, {args.servers} hub processes, {mode}")
    print(
        "| backend | letters | refused | received/s | delivered/s (end to end) | receipt→delivery p50 / p99"
        " | receipt→ack delivered p50 / p99 | answered→delivered p50 / p99 | baseline writes/s"
        " | CPU ms/letter: server / delivery / bench | letters/s on 2 idle cores (hub CPU) | load |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for backend in args.backends.split(","):
        r = run(backend.strip(), payloads, args.senders, args.outbox_only, args.servers)
        print(
            f"| {backend} | {r['letters']:,} | {r['refused']} | {r['receive_rate']:.0f} | {r['rate']:.0f} "
            f"| {r['letter_p50'] * 1000:.0f} ms / {r['letter_p99'] * 1000:.0f} ms "
            f"| {r['ack_p50'] * 1000:.0f} ms / {r['ack_p99'] * 1000:.0f} ms "
            f"| {r['answer_p50'] * 1000:.0f} ms / {r['answer_p99'] * 1000:.0f} ms | {r['baseline']:,.0f} "
            f"| {r['server_cpu_ms']:.1f} / {r['delivery_cpu_ms']:.1f} / {r['bench_cpu_ms']:.1f} "
            f"| {capacity(r):,.0f} | {load()} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
