"""The security gate's cost: read and search latency with the full policy and audit on, against the same
requests with security switched off, in the same run on the same data.

Two ``bindeled serve`` processes share one SQLite file: one with the gate (``--dev``; requests from a GP
with a purpose of use, so every resource passes the policy and every request writes its audit records and
MinLog entries), one with ``BINDELED_ENFORCE_SECURITY=false`` (the baseline). Data: synthetic citizens
with observations, loaded once through the secured server.

    .venv/bin/python -m bench.security --citizens 300 --requests 400
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bindeled.demo.patients import synthetic_citizens
from bindeled.fhir import jsonio
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER


@contextmanager
def serve(database: str, port: int, data_dir: Path, secure: bool) -> Iterator[str]:
    env = {
        **os.environ,
        "BINDELED_LOG_LEVEL": "WARNING",
        "BINDELED_DATA_DIR": str(data_dir),
        "BINDELED_ENFORCE_SECURITY": "true" if secure else "false",
    }
    args = [sys.executable, "-m", "bindeled", "serve", "--database", database, "--port", str(port)]
    proc = subprocess.Popen(
        [*args, "--dev"] if secure else args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        for _ in range(300):
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
        proc.wait(timeout=30)


def token(data_dir: Path, user: str, purpose: str | None = None) -> str:
    issuer = LocalIssuer(data_dir, DEV_ISSUER, DEV_AUDIENCE)
    return issuer.mint(demo_user(user), now=datetime.now(UTC), purpose=purpose, lifetime=timedelta(hours=2))


def load(base: str, admin: str, citizens: int) -> list[tuple[str, str]]:
    """Put the citizens in; return (patient id, observation id) pairs."""
    pairs: list[tuple[str, str]] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=120) as client:
        for group in synthetic_citizens(citizens, seed=3):
            entries = [
                {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in group
            ]
            response = client.post(
                "/",
                content=jsonio.encode({"resourceType": "Bundle", "type": "transaction", "entry": entries}),
                headers={"Content-Type": "application/fhir+json"},
            )
            response.raise_for_status()
            obs = next(r["id"] for r in group if r["resourceType"] == "Observation")
            pairs.append((group[0]["id"], obs))
    return pairs


def timed(client: httpx.Client, paths: list[str]) -> list[float]:
    out: list[float] = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, database = Path(tmp) / "data", f"sqlite:///{tmp}/security.db"
        with serve(database, args.port, data_dir, secure=True) as base:
            pairs = load(base, token(data_dir, "admin"), args.citizens)
        picks = [rng.choice(pairs) for _ in range(args.requests)]
        mixes: dict[str, list[str]] = {
            "read Observation": [f"/Observation/{o}" for _p, o in picks],
            "search Observation?subject": [f"/Observation?subject=Patient/{pid}" for pid, _o in picks],
        }
        results: dict[tuple[str, bool], list[float]] = {}
        gp = token(data_dir, "gp", "SJ_READ")
        for secure in (False, True, False, True):
            with serve(database, args.port + 1, data_dir, secure) as base:
                headers: dict[str, Any] = {"Authorization": f"Bearer {gp}"} if secure else {}
                with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                    timed(client, mixes["read Observation"][:20])  # warm up
                    for name, paths in mixes.items():
                        results.setdefault((name, secure), []).extend(timed(client, paths))
    print(
        f"# bindeled security gate cost — {time.strftime('%Y-%m-%d')} — {platform.node()}, {os.cpu_count()} CPUs, "
        f"SQLite, {args.citizens} citizens, {args.requests} requests per mix and mode (×2 runs)"
    )
    print(f"{'query':<28} {'off p50':>8} {'on p50':>8} {'ratio':>6} {'off p99':>8} {'on p99':>8} {'ratio':>6}")
    for name in mixes:
        off, on = results[(name, False)], results[(name, True)]
        print(
            f"{name:<28} {statistics.median(off):>8.2f} {statistics.median(on):>8.2f} "
            f"{statistics.median(on) / statistics.median(off):>6.2f} {p(off, 0.99):>8.2f} {p(on, 0.99):>8.2f} "
            f"{p(on, 0.99) / p(off, 0.99):>6.2f}"
        )
    print("(milliseconds per request, one client; 'on' = token verified, policy applied, audit and MinLog written)")


if __name__ == "__main__":
    main()
