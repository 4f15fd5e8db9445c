"""Real processes for the fault tests: ``bindeled serve`` as a subprocess, and receiving applications.

:class:`HubProcess` starts the hub with ``python -m bindeled serve`` on a file or PostgreSQL database and
can SIGKILL it and start it again on the same database. :class:`ReceivingApp` is a real HTTP server
(threads in the test process) that plays the receiving system: it accepts pushed Bundles, remembers
every copy, and treats copies of a letter it already has as duplicates (by MessageHeader id), as a
MedCom receiver must. Its port can be closed for a while to play a receiver that is down.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from bindeled.security.devissuer import DemoUser
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HubProcess:
    """``bindeled serve --dev`` in a subprocess, on one database, restartable."""

    def __init__(self, database_url: str, folder: Path, **settings: str) -> None:
        self.port = free_port()
        self.database_url = database_url
        self.folder = folder
        self.env = {
            **os.environ,
            "BINDELED_DATA_DIR": str(folder / "data"),
            "BINDELED_MEDCOM_PACKAGES_DIR": str(SHARED / "standards" / "fhir-packages"),
            "BINDELED_LOG_JSON": "true",
            **{f"BINDELED_{name.upper()}": value for name, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def start(self) -> None:
        self.starts += 1
        log = open(self.folder / f"hub-{self.starts}.log", "wb")  # noqa: SIM115 - the child keeps it open
        command = [sys.executable, "-m", "bindeled", "serve", "--dev", "--port", str(self.port)]
        command += ["--database", self.database_url]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = Path(log.name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the hub exited with {self.process.returncode}:\n{tail}")
            try:
                if httpx.get(f"{self.base}/metadata", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the hub did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing; whatever was in flight is cut off."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, user: DemoUser | str, purpose: str | None = None) -> str:
        issuer = LocalIssuer(self.folder / "data", DEV_ISSUER, DEV_AUDIENCE)
        found = demo_user(user) if isinstance(user, str) else user
        if purpose is None:
            return issuer.mint(found, now=datetime.now(UTC))
        return issuer.mint(found, now=datetime.now(UTC), purpose=purpose)  # type: ignore[arg-type]

    def client(self, token: str) -> httpx.Client:
        headers = {"Accept": "application/fhir+json", "Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base, timeout=60, headers=headers)


def sender_system(sor: str) -> DemoUser:
    """A sender system of SOR unit ``sor`` (the claims a registered system's token carries)."""
    claims = {
        "user_type": "system",
        "name": "Fault test sender",
        "sor": sor,
        "org_name": f"Unit {sor}",
        "system_name": "FaultTestSender",
        "system_version": "1.0",
    }
    return DemoUser("fault-sender", claims, "system/*.cruds")


class ReceivingApp:
    """A receiving application: a real HTTP endpoint that keeps every pushed Bundle, deduplicating by letter."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.port = free_port()
        self.delay = delay
        self.copies: Counter[str] = Counter()
        """How many copies of each letter (MessageHeader id) arrived."""
        self.letters: dict[str, dict[str, Any]] = {}
        """The first copy of each letter: what the application acts on."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/medcom"

    def start(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if app.delay:
                    time.sleep(app.delay)
                app.receive(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Close the port: pushes meet a refused connection until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def receive(self, bundle: dict[str, Any]) -> None:
        header = bundle["entry"][0]["resource"]
        with self._lock:
            self.copies[header["id"]] += 1
            self.letters.setdefault(header["id"], bundle)

    def count(self) -> int:
        with self._lock:
            return len(self.letters)
