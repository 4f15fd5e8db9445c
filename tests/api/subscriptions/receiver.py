"""A real HTTP receiver for rest-hook notifications: a threaded HTTP server that records what it gets."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """``with Receiver() as r: r.url …; r.next()`` — answers every call with ``status`` (which may be changed).

    ``port`` 0 takes a free port; a given port lets a test start a receiver where one was down.
    """

    def __init__(self, status: int = 200, port: int = 0) -> None:
        self.calls: queue.Queue[Received] = queue.Queue()
        self.status = status
        calls, receiver = self.calls, self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                calls.put(Received(self.command, self.path, headers, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = _record

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def next(self, timeout: float = 20.0) -> Received:
        """The next call (waits up to ``timeout`` seconds; a missing notification fails the test)."""
        return self.calls.get(timeout=timeout)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
