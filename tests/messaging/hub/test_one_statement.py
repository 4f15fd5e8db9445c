"""The receipt's rows written together: one statement on PostgreSQL, one by one on SQLite, the same result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bindeled.messaging.hub.one_statement import run_together
from bindeled.messaging.hub.received import Letter, envelope_statement, find_letter, letter_statement
from bindeled.messaging.hub.status import Hop, HopRecord, hops_statement, message_status
from tests.messaging.hub.conftest import Stored

pytestmark = pytest.mark.anyio

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _letter(message_id: str, envelope_id: str) -> Letter:
    return Letter(
        message_id, envelope_id, "hospital-notification-message", "5790000209354", "5790001348120",
        "265161000016000", "953741000016009", AT, "ok", "application/fhir+json", b"{}", b"{}",
    )  # fmt: skip


async def test_rows_are_written_together_and_only_new_ones_count(stored: Stored) -> None:
    hop = HopRecord("m-1", Hop.RECEIVED, "hospital-notification-message", "5790000209354", "5790001348120", "", AT)
    statements = [letter_statement(_letter("m-1", "e-1")), envelope_statement("e-1", "m-1", AT), hops_statement([hop])]
    async with stored.store.transaction() as tx:
        assert await run_together(tx, stored.store.dialect, statements) == [1, 1]
    async with stored.store.transaction() as tx:
        # The same letter and envelope again: nothing new (the caller starts its transaction again).
        again = [letter_statement(_letter("m-1", "e-2")), envelope_statement("e-1", "m-9", AT)]
        assert await run_together(tx, stored.store.dialect, again) == [0, 0]
        assert await run_together(tx, stored.store.dialect, [envelope_statement("e-3", "m-1", AT)]) == [1]
    found = await find_letter(stored.store, "m-1")
    assert found is not None and found.envelope_id == "e-1"
    assert [event["subtype"][0]["code"] for event in await message_status(stored.store, "m-1")] == ["received"]
    rows = await stored.store.fetch_all("SELECT envelope_id, message_id FROM hub_envelope ORDER BY envelope_id")
    assert [tuple(r) for r in rows] == [("e-1", "m-1"), ("e-3", "m-1")]


async def test_statements_without_returning_count_nothing(stored: Stored) -> None:
    hop = HopRecord("m-2", Hop.VALIDATED, "hospital-notification-message", "5790000209354", "5790001348120", "", AT)
    async with stored.store.transaction() as tx:
        assert await run_together(tx, stored.store.dialect, [hops_statement([hop, hop])]) == []
    assert len(await message_status(stored.store, "m-2")) == 2
