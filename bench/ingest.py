"""Ingest benchmark: resources per second through the REST API, against a raw-insert baseline.

For each backend: start a real ``bindeled serve --dev`` process on a fresh database (the security
gate on: every request authenticated with an administrator's token, authorised and audited), post the Synthea
transaction bundles (when ``../shared`` is there) and a generated set of synthetic citizens as
transaction bundles from concurrent clients, and measure resources per second. The baseline, in the
same run and on the same database server: the same resource JSON inserted straight into a plain
table (``executemany`` in batches), with no validation, indexing, versioning or HTTP.

    .venv/bin/python -m bench.ingest --backend both --resources 100000 --clients 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bindeled.demo.patients import synthetic_citizens
from bindeled.fhir import jsonio
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER

REPO = Path(__file__).resolve().parents[1]
SYNTHEA = REPO.parent / "shared" / "testdata" / "synthea-r4-bundles"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def generated_bundles(resources: int, per_bundle: int, seed: int) -> Iterator[bytes]:
    """Transaction bundles of synthetic citizens (urn:uuid references), about ``per_bundle`` resources each."""
    entries: list[dict[str, Any]] = []
    made = 0
    for group in synthetic_citizens(resources, seed):
        urls = {f"Patient/{group[0]['id']}": f"urn:uuid:{uuid.uuid4()}"}
        for resource in group:
            body = {k: v for k, v in resource.items() if k != "id"}
            if "subject" in body:
                body["subject"] = {"reference": urls[body["subject"]["reference"]]}
            full = urls.get(f"{resource['resourceType']}/{resource['id']}", f"urn:uuid:{uuid.uuid4()}")
            entries.append(
                {"fullUrl": full, "resource": body, "request": {"method": "POST", "url": resource["resourceType"]}}
            )
            made += 1
        if len(entries) >= per_bundle or made >= resources:
            yield jsonio.encode({"resourceType": "Bundle", "type": "transaction", "entry": entries})
            entries = []
        if made >= resources:
            return


def bundle_resources(bundle: bytes) -> list[tuple[str, bytes]]:
    decoded = jsonio.decode(bundle)
    return [(e["resource"]["resourceType"], jsonio.encode(e["resource"])) for e in decoded.get("entry", ())]


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
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


@contextmanager
def server(database_url: str, port: int, data_dir: Path) -> Iterator[str]:
    """``bindeled serve --dev`` (the security gate on, tokens from the development issuer)."""
    env = {**os.environ, "BINDELED_LOG_LEVEL": "WARNING", "BINDELED_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bindeled", "serve", "--dev", "--database", database_url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/metadata", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start: " + (proc.stderr.read().decode() if proc.stderr else ""))
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def admin_token(data_dir: Path) -> str:
    issuer = LocalIssuer(data_dir, DEV_ISSUER, DEV_AUDIENCE)
    return issuer.mint(demo_user("admin"), now=datetime.now(UTC), lifetime=timedelta(hours=6))


async def post_all(base: str, bundles: list[bytes], clients: int, token: str) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for bundle in bundles:
        queue.put_nowait(bundle)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            bundle = queue.get_nowait()
            response = await client.post("/", content=bundle, headers={"Content-Type": "application/fhir+json"})
            if response.status_code != 200:
                raise RuntimeError(f"transaction failed: {response.status_code} {response.text[:300]}")

    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=600, headers=headers) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return time.perf_counter() - started


def baseline_sqlite(path: Path, rows: list[tuple[str, bytes]]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw (type TEXT, id TEXT, body BLOB, PRIMARY KEY (type, id))")
    started = time.perf_counter()
    for i in range(0, len(rows), 100):
        with conn:
            conn.executemany(
                "INSERT INTO raw VALUES (?, ?, ?)", [(t, str(uuid.uuid4()), b) for t, b in rows[i : i + 100]]
            )
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


async def baseline_postgres(url: str, rows: list[tuple[str, bytes]]) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE raw (type text, id text, body bytea, PRIMARY KEY (type, id))")
        started = time.perf_counter()
        for i in range(0, len(rows), 100):
            async with conn.transaction():
                await conn.executemany(
                    "INSERT INTO raw VALUES ($1, $2, $3)", [(t, str(uuid.uuid4()), b) for t, b in rows[i : i + 100]]
                )
        return time.perf_counter() - started
    finally:
        await conn.close()


def run(backend: str, bundles: list[bytes], clients: int, port: int) -> dict[str, float]:
    rows = [row for bundle in bundles for row in bundle_resources(bundle)]
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        data_dir = Path(tmp) / "data"
        with server(url, port, data_dir) as base:
            api_seconds = asyncio.run(post_all(base, bundles, clients, admin_token(data_dir)))
        if backend == "sqlite":
            raw_seconds = baseline_sqlite(Path(tmp) / "raw.db", rows)
        else:
            raw_seconds = asyncio.run(baseline_postgres(url, rows))
    return {
        "resources": len(rows),
        "api_per_s": len(rows) / api_seconds,
        "raw_per_s": len(rows) / raw_seconds,
        "api_s": api_seconds,
        "raw_s": raw_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--resources", type=int, default=100_000, help="generated resources (besides Synthea)")
    parser.add_argument("--per-bundle", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    synthea = [p.read_bytes() for p in sorted(SYNTHEA.glob("*.json"))] if SYNTHEA.is_dir() else []
    generated = list(generated_bundles(args.resources, args.per_bundle, args.seed))
    print(
        f"# bindeled ingest benchmark — {time.strftime('%Y-%m-%d')} — {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {args.clients} concurrent clients"
    )
    print(f"{'backend':<11} {'data set':<10} {'resources':>9} {'API res/s':>10} {'raw res/s':>10} {'API/raw':>8}")
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        for label, bundles in (("synthea", synthea), ("generated", generated)):
            if not bundles:
                continue
            result = run(backend, bundles, args.clients, args.port)
            ratio = result["api_per_s"] / result["raw_per_s"]
            print(
                f"{backend:<11} {label:<10} {int(result['resources']):>9} {result['api_per_s']:>10.0f} "
                f"{result['raw_per_s']:>10.0f} {ratio:>8.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
