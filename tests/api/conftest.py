"""A real bindeled server (uvicorn on a loopback port) per backend, shared by the API tests.

Tests talk to it over HTTP like any client would. The server lives for the whole session, so tests
make their own data (unique identifiers) and never assume an empty database.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from bindeled.api.app import create_app
from bindeled.config import Settings
from bindeled.security import LocalIssuer, demo_user
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from tests.backends import BACKENDS, database_url_for
from tests.conftest import SHARED

DK_CORE = SHARED / "standards" / "fhir-packages" / "hl7.fhir.dk.core#3.4.0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """uvicorn running the app in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=settings.port, log_config=None, lifespan="on", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}/fhir"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    with database_url_for(request.param, folder) as url:
        settings = Settings(
            database_url=url,
            port=_free_port(),
            log_json=False,
            fhir_profile_packages=(str(DK_CORE),),
            medcom_packages_dir=str(SHARED / "standards" / "fhir-packages"),
            mllp_enabled=True,
            mllp_port=_free_port(),
            lab_intake_dir=str(folder / "lab-intake"),
            lab_intake_poll_seconds=0.2,
            dev=True,
            data_dir=str(folder / "data"),
        )
        with LiveServer(settings) as live:
            yield live


def token_for(server: LiveServer, username: str, **kwargs: str) -> str:
    """A bearer token from the server's own development issuer, verified by the real path."""
    issuer = LocalIssuer(Path(server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    return issuer.mint(demo_user(username), now=datetime.now(UTC), **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def admin_headers(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(server, 'admin')}"}


@pytest.fixture
def client(server: LiveServer, admin_headers: dict[str, str]) -> Iterator[httpx.Client]:
    """An administrator's client: full access, every request authenticated and audited."""
    headers = {"Accept": "application/fhir+json", **admin_headers}
    with httpx.Client(base_url=server.base, timeout=60, headers=headers) as c:
        yield c


@pytest.fixture
def anonymous(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=60, headers={"Accept": "application/fhir+json"}) as c:
        yield c


@pytest.fixture
def forget_refused_results(server: LiveServer, admin_headers: dict[str, str]) -> Iterator[None]:
    """Take away the results refused for display that a test stored on the shared server.

    Chained and ``_has`` searches leave out the compartment of a citizen with such a result for everyone who may
    not see it (a join could reveal that it exists), which would change what later tests on this server see.
    """
    yield
    label = "https://bindeled.dk/fhir/CodeSystem/display|refused"
    with httpx.Client(base_url=server.base, timeout=60, headers=admin_headers) as admin:
        for rtype in ("Observation", "DiagnosticReport", "Specimen"):
            found = admin.get(f"/{rtype}", params={"_security": label, "_count": "1000"}).json()
            for entry in found.get("entry", []):
                assert admin.delete(f"/{rtype}/{entry['resource']['id']}").status_code in (200, 204)
