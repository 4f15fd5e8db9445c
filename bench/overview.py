"""Overview benchmark: ``Patient/{id}/$overview`` p50/p99 at 1 and 16 clients, beside the raw queries.

Builds a region-sized data set — the synthetic SOR tree of Region Syddanmark, ``--citizens`` synthetic
citizens with cards and relatives, ``--appointments`` appointments each from hospital wards, GP
practices and municipal home care, home-care plans and current stays (``overview.synthetic``) — and
bulk-loads it with ``store.bulk`` (the real search indexer in ``--workers`` processes, COPY or executemany in
large transactions, secondary indexes built afterwards; no HTTP). Then a real
``bindeled serve --dev`` process answers ``$overview`` for random citizens to a GP's token (purpose
``SJ_READ``: every section, the security gate and MinLog on), at 1 and 16 concurrent clients. The
baseline, measured in the same run on the same database, is the raw SQL for the same data without the
API: the Patient, its relatives, its appointments since the look-back with their bodies decoded and
filtered, its active plans and its current stay.

    .venv/bin/python -m bench.overview --citizens 100000          # the full region: 2,000,000 appointments
    .venv/bin/python -m bench.overview --citizens 2000 --backend both

Building the region takes most of an hour; measuring it, minutes. ``--reuse NAME`` (PostgreSQL) builds into
the database ``NAME`` once, records in it that the build completed (``bench_overview_build``: the
parameters, the resource count and the build time) and keeps it; a later run with the same ``NAME``
finds the record and goes straight to measuring, e.g. on a quiet machine. A database ``NAME`` without the
record (a build that was interrupted) is dropped and built again.

    .venv/bin/python -m bench.overview --citizens 100000 --backend postgresql --reuse overview_region
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bindeled.demo.patients import synthetic_citizens
from bindeled.fhir import jsonio
from bindeled.fhir.definitions import load_definitions
from bindeled.fhir.search import date_range
from bindeled.overview.patient_overview import LOOKBACK, is_current_or_coming
from bindeled.overview.synthetic import overview_units, synthetic_overview
from bindeled.registry import SorTree, import_into, synthetic_region
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from bindeled.store.base import Store
from bindeled.store.bulk import bulk_load
from bindeled.store.factory import open_store
from bindeled.store.search import SearchIndexer

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
STAY_TAG = ("https://bindeled.dk/fhir/CodeSystem/overview", "current-stay")
BATCH = 2000
"""Resources per bulk-load transaction."""


# -- loading ----------------------------------------------------------------------------------------


def _patients(count: int) -> Iterator[dict[str, Any]]:
    for group in synthetic_citizens(count, seed=11):
        yield group[0]


async def load(
    url: str, citizens: int, appointments: int, now: datetime, workers: int = 2
) -> tuple[list[str], int, float]:
    """The SOR tree and the citizens' data; (patient ids, resources, seconds)."""
    store = open_store(url, indexer=SearchIndexer(load_definitions()))
    await store.open()
    started, made = time.perf_counter(), 0
    ids: list[str] = []
    try:
        tree = SorTree.from_export(synthetic_region())
        result = await import_into(store, tree, on=now.date())
        made += result.created + result.updated
        print(f"  SOR tree: {made:,} resources in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        units = overview_units(tree, now.date())
        stream = synthetic_overview(list(_patients(citizens)), units, now=now, appointments_per_citizen=appointments)
        loaded = await bulk_load(
            store, _resources(stream, ids, started, made), batch_size=BATCH, defer_indexes=True, workers=workers
        )
        made += loaded.resources
        print(
            f"  bulk load done: {made:,} resources, {loaded.index_rows:,} index rows,"
            f" {time.perf_counter() - started:.1f} s with the index builds",
            file=sys.stderr,
            flush=True,
        )
    finally:
        await store.close()
    return ids, made, time.perf_counter() - started


def _resources(
    stream: Iterator[list[dict[str, Any]]], ids: list[str], started: float, before: int
) -> Iterator[dict[str, Any]]:
    """The citizens' resources one by one, noting each Patient's id and reporting progress."""
    made = before
    for index, group in enumerate(stream, 1):
        ids.append(str(group[0]["id"]))
        made += len(group)
        yield from group
        if index % 2000 == 0:
            rate = made / (time.perf_counter() - started)
            print(f"  prepared {index:,} citizens, {made:,} resources ({rate:,.0f}/s)", file=sys.stderr, flush=True)


# -- the baseline: raw SQL for the same data ----------------------------------------------------------


def _sql(store: Store, text: str) -> str:
    if store.dialect == "sqlite":
        return text
    out, n = [], 0
    for ch in text:
        if ch == "?":
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    return "".join(out)


def _baseline_queries(store: Store) -> dict[str, str]:
    live = "r.deleted = 0" if store.dialect == "sqlite" else "NOT r.deleted"
    # The citizen's resources first (a materialised CTE): left to itself the planner starts a token filter from
    # the token side (it estimates one CarePlan with status active, finds all of them) and scales with the data.
    ref = (
        "WITH mine AS MATERIALIZED (SELECT s.res_type, s.res_id FROM search_reference s "
        "WHERE s.res_type = ? AND s.param = ? AND s.target_type = 'Patient' AND s.target_id = ?) "
        f"SELECT r.body FROM mine s JOIN resources r ON r.res_type = s.res_type AND r.res_id = s.res_id WHERE {live}"
    )
    token = (
        " AND EXISTS (SELECT 1 FROM search_token t WHERE t.res_type = r.res_type AND t.res_id = r.res_id "
        "AND t.param = ? AND t.code = ? AND t.system = ?)"
    )
    date = (
        " AND EXISTS (SELECT 1 FROM search_date d WHERE d.res_type = r.res_type AND d.res_id = r.res_id "
        "AND d.param = 'date' AND d.high > ?)"
    )
    return {
        "patient": _sql(
            store, f"SELECT r.body FROM resources r WHERE r.res_type = 'Patient' AND r.res_id = ? AND {live}"
        ),
        "related": _sql(store, ref),
        "appointments": _sql(store, ref + date),
        "token": _sql(store, ref + token),
    }


async def baseline_overview(store: Store, queries: dict[str, str], patient: str, now: datetime) -> int:
    """The same answer as ``$overview`` straight from the tables; returns the number of items."""
    since = date_range((now - LOOKBACK).isoformat())[0]
    rows = await store.fetch_all(queries["patient"], [patient])
    relatives = await store.fetch_all(queries["related"], ["RelatedPerson", "patient", patient])
    found = await store.fetch_all(queries["appointments"], ["Appointment", "patient", patient, since])
    shown = [a for a in (jsonio.decode_stored(bytes(r[0])) for r in found) if is_current_or_coming(a, now)]
    shown.sort(key=lambda a: str(a.get("start")))
    plans = await store.fetch_all(
        queries["token"], ["CarePlan", "subject", patient, "status", "active", "http://hl7.org/fhir/request-status"]
    )
    stay = await store.fetch_all(queries["token"], ["Encounter", "subject", patient, "_tag", STAY_TAG[1], STAY_TAG[0]])
    decoded = [jsonio.decode_stored(bytes(r[0])) for r in [*rows, *relatives, *plans, *stay]]
    return len(decoded) + len(shown)


# -- measuring ----------------------------------------------------------------------------------------


async def timed(clients: int, requests: int, call: Callable[[int], Awaitable[int]]) -> tuple[list[float], int]:
    """``requests`` calls over ``clients`` concurrent workers; (latencies in seconds, items answered)."""
    latencies: list[float] = []
    answered = 0
    counter = iter(range(requests))

    async def worker() -> None:
        nonlocal answered
        for i in counter:
            t0 = time.perf_counter()
            got = await call(i)
            latencies.append(time.perf_counter() - t0)
            answered += got

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, answered


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(url: str, data_dir: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "BINDELED_LOG_LEVEL": "WARNING", "BINDELED_DATA_DIR": str(data_dir)}
    args = [sys.executable, "-m", "bindeled", "serve", "--database", url, "--port", str(port), "--dev"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/metadata", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


@asynccontextmanager
async def api_client(base: str, data_dir: Path, clients: int) -> AsyncIterator[httpx.AsyncClient]:
    issuer = LocalIssuer(data_dir, DEV_ISSUER, DEV_AUDIENCE)
    gp = issuer.mint(demo_user("gp"), now=datetime.now(UTC), purpose="SJ_READ", lifetime=timedelta(hours=4))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {gp}", "Accept": "application/fhir+json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as client:
        yield client


async def measure(url: str, base: str, data_dir: Path, ids: list[str], requests: int) -> list[dict[str, Any]]:
    rng = random.Random(3)
    picks = [rng.choice(ids) for _ in range(requests)]
    store = open_store(url)
    await store.open()
    queries = _baseline_queries(store)
    now = datetime.now(UTC)
    rows = []
    try:
        for clients in (1, 16):
            async with api_client(base, data_dir, clients) as client:

                async def api(i: int, client: httpx.AsyncClient = client) -> int:
                    response = await client.get(f"/Patient/{picks[i]}/$overview")
                    response.raise_for_status()
                    body = response.json()
                    card = next(p for p in body["parameter"] if p["name"] == "card")["part"]
                    relatives = [p for p in card if p["name"] == "editable"]
                    count = sum(1 for p in relatives[0]["part"] if p["name"] == "relative") if relatives else 0
                    return 1 + count + sum(1 for p in body["parameter"] if "resource" in p and p["name"] != "outcome")

                await api(0)  # warm up the connection and the server's caches
                lat, answered = await timed(clients, requests, api)

            async def raw(i: int) -> int:
                return await baseline_overview(store, queries, picks[i], now)

            await raw(0)
            base_lat, base_answered = await timed(clients, requests, raw)
            rows.append({
                "clients": clients, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
                "base_p50": pct(base_lat, 0.5), "base_p99": pct(base_lat, 0.99),
                "items": answered / requests, "base_items": base_answered / requests,
            })  # fmt: skip
    finally:
        await store.close()
    return rows


def print_table(backend: str, citizens: int, resources: int, seconds: float, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {backend}: {citizens:,} citizens, {resources:,} resources (load {resources / seconds:,.0f}/s)")
    print("| clients | $overview p50 ms | p99 ms | raw SQL p50 ms | raw SQL p99 ms | ratio p50 | items (API/SQL) |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = r["p50"] / r["base_p50"] if r["base_p50"] else float("nan")
        print(
            f"| {r['clients']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['base_p50']:.2f} | {r['base_p99']:.2f} | "
            f"{ratio:.1f}x | {r['items']:.1f}/{r['base_items']:.1f} |"
        )
    sys.stdout.flush()


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# -- building once, measuring later ------------------------------------------------------------------

_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
_BUILD_TABLE = (
    "CREATE TABLE bench_overview_build (citizens integer NOT NULL, appointments integer NOT NULL,"
    " resources bigint NOT NULL, seconds double precision NOT NULL, built_at timestamptz NOT NULL)"
)


async def _database_exists(name: str) -> bool:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def completed_build(url: str) -> tuple[int, int, int, float] | None:
    """The recorded build in the database (citizens, appointments per citizen, resources, seconds), if complete."""
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('bench_overview_build') IS NOT NULL"):
            return None
        row = await conn.fetchrow("SELECT citizens, appointments, resources, seconds FROM bench_overview_build")
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]), float(row[3]))
    finally:
        await conn.close()


async def record_build(url: str, citizens: int, appointments: int, resources: int, seconds: float) -> None:
    """Mark the build complete (written last, so its presence means every batch and index is in)."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(_BUILD_TABLE)
            await conn.execute(
                "INSERT INTO bench_overview_build VALUES ($1, $2, $3, $4, $5)",
                citizens, appointments, resources, seconds, datetime.now(UTC),
            )  # fmt: skip
    finally:
        await conn.close()


async def patient_ids(url: str) -> list[str]:
    """The citizens of a kept build (the SOR tree has no Patients), in a stable order."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT res_id FROM resources WHERE res_type = 'Patient' AND NOT deleted ORDER BY res_id"
        )
        return [str(r[0]) for r in rows]
    finally:
        await conn.close()


def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _reused(name: str, args: argparse.Namespace) -> tuple[list[str], int, float] | None:
    """A complete kept build ``name`` of the same size: (patient ids, resources, build seconds); else None.

    An incomplete one is dropped; one of another size is refused (pick another name).
    """
    if not asyncio.run(_database_exists(name)):
        return None
    url = _pg_url(name)
    found = asyncio.run(completed_build(url))
    if found is None:
        print(f"  {name}: no completed build recorded; dropping it and building again", file=sys.stderr, flush=True)
        asyncio.run(_pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
        return None
    citizens, appointments, made, seconds = found
    if (citizens, appointments) != (args.citizens, args.appointments):
        raise SystemExit(
            f"{name} holds {citizens:,} citizens x {appointments} appointments, not {args.citizens:,} x"
            f" {args.appointments}: choose another --reuse name"
        )
    print(f"  {name}: reusing the build of {made:,} resources ({seconds:,.0f} s)", file=sys.stderr, flush=True)
    return asyncio.run(patient_ids(url)), made, seconds


def bench_backend(backend: str, args: argparse.Namespace, folder: Path) -> None:
    name = None
    kept = None
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'overview-bench.db'}"
    else:
        name = args.reuse or f"bindeled_overview_{secrets.token_hex(4)}"
        kept = _reused(name, args) if args.reuse else None
        if kept is None:
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = _pg_url(name)
    try:
        if kept is None:
            now = datetime.now(UTC)
            ids, made, seconds = asyncio.run(load(url, args.citizens, args.appointments, now, args.workers))
            if name is not None and (args.keep or args.reuse):
                asyncio.run(record_build(url, args.citizens, args.appointments, made, seconds))
                print(f"  kept as database {name} (measure again with --reuse {name})", file=sys.stderr, flush=True)
        else:
            ids, made, seconds = kept
        data_dir = folder / f"{backend}-data"
        with serve(url, data_dir) as base:
            rows = asyncio.run(measure(url, base, data_dir, ids, args.requests))
        print_table(backend, args.citizens, made, seconds, rows)
    finally:
        if name is not None and not (args.keep or args.reuse):
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--appointments", type=int, default=20, help="appointments per citizen")
    parser.add_argument("--requests", type=int, default=300, help="$overview calls per client count")
    parser.add_argument("--workers", type=int, default=2, help="processes that index the bulk load")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse", metavar="NAME", help="PostgreSQL database to build once and keep, or to measure again if complete"
    )
    parser.add_argument("--workdir", help="where the SQLite file goes (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.reuse is not None and (args.backend != "postgresql" or not _DB_NAME.match(args.reuse)):
        parser.error("--reuse needs --backend postgresql and a plain lower-case database name")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"# bench.overview {date.today().isoformat()} on {os.cpu_count()} CPUs, {args.citizens:,} citizens")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for backend in backends:
            bench_backend(backend, args, Path(tmp))


if __name__ == "__main__":
    main()
