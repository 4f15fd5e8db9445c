"""Damaged messages never crash the receiving step: each is answered (an Acknowledgement) or refused (an error)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bindeled.errors import BindeledError
from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.validation import Validator
from bindeled.messaging.hub.receive import Hub, SenderRefused
from bindeled.messaging.profiles import ValidatorPool
from bindeled.store.factory import open_store
from bindeled.store.guard import as_system
from bindeled.store.repository import Repository
from bindeled.store.search import SearchIndexer

_JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.just([]), st.just({}), st.just([{}]))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*prefix, index))
            found += _paths(value, (*prefix, index))
    return found


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'robust.db'}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_message_is_answered_or_refused(
    data: st.DataObject, database: str, clean_hn: dict[str, Any], pool: ValidatorPool, definitions: Definitions
) -> None:
    bundle = copy.deepcopy(clean_hn)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(bundle)))
        parent: Any = bundle
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(_JUNK)

    async def receive() -> None:
        store = open_store(database, indexer=SearchIndexer(definitions))
        await store.open()
        try:
            hub = Hub(store, Repository(store, definitions, Validator(definitions)), definitions, pool)
            with as_system():
                receipt = await hub.receive(
                    jsonio.encode(bundle), "application/fhir+json", bundle, acting_sor=None, admin=True
                )
            assert receipt.response_code in ("ok", "fatal-error")
        except (BindeledError, SenderRefused):
            pass  # refused with an OperationOutcome
        finally:
            await store.close()

    anyio.run(receive)
