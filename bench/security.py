"""The security gate's cost: read and search latency with the full policy and audit on, against the same
requests with security switched off, in the same run on the same data.

Two ``bindeled serve`` processes share one SQLite file: one with the gate (``--dev``; requests from a GP
with a purpose of use, so every resource passes the policy and every request writes its audit records and
MinLog entries), one with ``BINDELED_ENFORCE_SECURITY=false`` (the baseline). Data: synthetic citizens
with observations, loaded once through the secured server.

Both servers run at the same time and each request goes to both, in alternating order, so a busy machine
slows both sides alike. Besides latency, the servers' own CPU time per request is measured (from
``/proc/<pid>/stat``, user + system, every thread, including the audit writer): other processes do not
inflate it, so on a shared machine it is the steadier measure of what the gate costs.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bindeled.demo.patients import synthetic_citizens
from bindeled.fhir import jsonio
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER


@dataclass
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(database: str, port: int, data_dir: Path, secure: bool) -> Iterator[Server]:
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
        yield Server(base, proc.pid)
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


def get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return elapsed


@dataclass
class Mix:
    """One query mix's latencies (ms) and server CPU time (s) per mode."""

    latency: dict[bool, list[float]] = field(default_factory=lambda: {False: [], True: []})
    cpu: dict[bool, float] = field(default_factory=lambda: {False: 0.0, True: 0.0})


def run_mix(clients: dict[bool, httpx.Client], servers: dict[bool, Server], paths: list[str], mix: Mix) -> None:
    """Each path to both servers, alternating which goes first; CPU counted after the audit writer is done."""
    cpu = {secure: servers[secure].cpu_seconds() for secure in (False, True)}
    for index, path in enumerate(paths):
        for secure in (True, False) if index % 2 else (False, True):
            mix.latency[secure].append(get(clients[secure], path))
    time.sleep(1.0)  # longer than the write-behind delay: the queued audit records are written (and counted)
    for secure in (False, True):
        mix.cpu[secure] += servers[secure].cpu_seconds() - cpu[secure]


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
        with serve(database, args.port, data_dir, secure=True) as loader:
            pairs = load(loader.base, token(data_dir, "admin"), args.citizens)
        picks = [rng.choice(pairs) for _ in range(args.requests)]
        mixes: dict[str, list[str]] = {
            "read Observation": [f"/Observation/{o}" for _p, o in picks],
            "search Observation?subject": [f"/Observation?subject=Patient/{pid}" for pid, _o in picks],
        }
        results = {name: Mix() for name in mixes}
        gp = token(data_dir, "gp", "SJ_READ")
        with (
            serve(database, args.port + 1, data_dir, secure=False) as off,
            serve(database, args.port + 2, data_dir, secure=True) as on,
            httpx.Client(base_url=off.base, timeout=60) as off_client,
            httpx.Client(base_url=on.base, headers={"Authorization": f"Bearer {gp}"}, timeout=60) as on_client,
        ):
            servers, clients = {False: off, True: on}, {False: off_client, True: on_client}
            run_mix(clients, servers, mixes["read Observation"][:40], Mix())  # warm up
            for _round in range(2):
                for name, paths in mixes.items():
                    run_mix(clients, servers, paths, results[name])
    report(results, args)


def report(results: dict[str, Mix], args: Any) -> None:
    print(
        f"# bindeled security gate cost — {time.strftime('%Y-%m-%d')} — {platform.node()}, {os.cpu_count()} CPUs, "
        f"SQLite, {args.citizens} citizens, {args.requests} requests per mix and mode (×2 rounds), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'query':<28} {'off p50':>8} {'on p50':>8} {'ratio':>6} {'off p99':>8} {'on p99':>8} {'ratio':>6} "
        f"{'off cpu':>8} {'on cpu':>8} {'ratio':>6}"
    )
    for name, mix in results.items():
        off, on = mix.latency[False], mix.latency[True]
        cpu_off, cpu_on = (mix.cpu[s] * 1000 / len(mix.latency[s]) for s in (False, True))
        print(
            f"{name:<28} {statistics.median(off):>8.2f} {statistics.median(on):>8.2f} "
            f"{statistics.median(on) / statistics.median(off):>6.2f} {p(off, 0.99):>8.2f} {p(on, 0.99):>8.2f} "
            f"{p(on, 0.99) / p(off, 0.99):>6.2f} {cpu_off:>8.2f} {cpu_on:>8.2f} {cpu_on / cpu_off:>6.2f}"
        )
    print(
        "(milliseconds per request, one client; cpu = server CPU ms per request, all threads; "
        "'on' = token verified, policy applied, audit and MinLog written)"
    )


if __name__ == "__main__":
    main()
