"""The MLLP listener as a server-lifetime worker: HL7 v2 results over TCP into the store.

``bindeled serve`` enters :func:`mllp_listener` when ``mllp_enabled`` is set: every frame goes through
:class:`~bindeled.lab.intake.Er7Handler` into a :class:`~bindeled.lab.store_sink.StoreSink`, and the
sender gets its ACK once the message is committed (or quarantined). Several server processes may
listen on several ports against one database: the sink serialises per result key in the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bindeled.lab.hl7v2.mllp import MllpServer
from bindeled.lab.intake import Er7Handler
from bindeled.lab.store_sink import StoreSink
from bindeled.store.repository import Repository

__all__ = ["mllp_listener"]


@asynccontextmanager
async def mllp_listener(repo: Repository, host: str, port: int, max_frame: int) -> AsyncIterator[MllpServer]:
    """Listen on ``host``:``port`` until the block ends; yields the running server (its bound port)."""
    async with MllpServer(Er7Handler(StoreSink(repo)), host=host, port=port, max_frame=max_frame) as server:
        yield server
