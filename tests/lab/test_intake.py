"""The intake pipeline without a socket: outcomes, quarantine, unexpected failures, privacy of logs."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from bindeled.errors import NotFound
from bindeled.lab import MemorySink, QuarantineStatus, discard, inspect, receive_er7
from bindeled.lab.corrections import Outcome
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.ack import AckCode
from bindeled.lab.hl7v2.errors import ErrorCode, Hl7Error
from bindeled.lab.hl7v2.oru_r01 import MappedResult
from bindeled.lab.intake import decode_er7
from tests.lab.messages import CPR, mutated_messages, oru

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


class FailingSink(MemorySink):
    async def store(self, result: MappedResult) -> Outcome:
        raise RuntimeError(f"disk full while writing {result.cpr}")


async def test_accepted(sink: MemorySink) -> None:
    ack = await receive_er7(oru().encode(), sink)
    assert (ack.code, ack.control_id, ack.duplicate) == (AckCode.ACCEPT, "MSG0001", False)


async def test_rejected_message_is_quarantined_with_time_and_source(sink: MemorySink) -> None:
    ack = await receive_er7(oru(pid3="").encode(), sink, source="file:x.hl7", now=lambda: NOW)
    assert ack.code is AckCode.ERROR
    (record,) = await inspect(sink)
    assert (record.received, record.source, record.status) == (NOW, "file:x.hl7", QuarantineStatus.HELD)


async def test_unexpected_failure_is_answered_and_quarantined_without_personal_data_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = FailingSink()
    with caplog.at_level(logging.DEBUG):
        ack = await receive_er7(oru().encode(), sink)
    assert ack.code is AckCode.ERROR
    assert ack.errors[0].code is ErrorCode.APPLICATION_INTERNAL
    assert len(await inspect(sink)) == 1
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "RuntimeError" in logged
    assert CPR not in logged
    assert "Jensen" not in logged


async def test_discard_keeps_the_record(sink: MemorySink) -> None:
    await receive_er7(oru(pid3="").encode(), sink)
    (record,) = await inspect(sink)
    await discard(sink, record.id)
    assert await inspect(sink) == []
    assert [r.status for r in await inspect(sink, None)] == [QuarantineStatus.DISCARDED]


async def test_unknown_quarantine_record(sink: MemorySink) -> None:
    with pytest.raises(NotFound):
        await discard(sink, "nope")


def test_decode_er7_follows_msh18() -> None:
    assert decode_er7(oru().encode()) == oru()
    with pytest.raises(Hl7Error) as raised:
        decode_er7(oru().replace("UNICODE UTF-8", "EBCDIC").encode())
    assert raised.value.where.field == 18
    assert raised.value.hl7_code is ErrorCode.TABLE_VALUE_NOT_FOUND


@settings(max_examples=150, deadline=None)
@given(mutated_messages())
def test_every_mutated_message_gets_a_well_formed_ack_and_never_hits_a_bug(text: str) -> None:
    sink = MemorySink()
    ack = asyncio.run(receive_er7(text.encode(), sink))
    rendered = er7.parse(ack.render(NOW))
    assert rendered.segments[1][1] == ack.code.value
    if ack.code is AckCode.ACCEPT:
        assert asyncio.run(inspect(sink)) == []
    else:
        assert ack.errors[0].code is not ErrorCode.APPLICATION_INTERNAL
        assert [r.raw for r in asyncio.run(inspect(sink))] == [text.encode()]
