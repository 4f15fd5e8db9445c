"""The senders: the demo's file sender and the HTTP sender against a real local gateway."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from bindeled.config import Settings
from bindeled.overview.reminders import (
    FileSender,
    HttpSender,
    OutgoingReminder,
    PermanentSendError,
    TransientSendError,
    sender_from,
)
from tests.overview.reminders.gateway import running_gateway

pytestmark = pytest.mark.anyio

REMINDER = OutgoingReminder("r-1", "sms", "+4512345678", "Påmindelse: Du har en aftale tirsdag 1. december kl. 09.00.")


async def test_the_gateway_gets_one_json_post_with_an_idempotency_key() -> None:
    with running_gateway() as gateway:
        await HttpSender(gateway.url, backoff=0).send(REMINDER)
    assert gateway.received == [{"id": "r-1", "channel": "sms", "to": "+4512345678", "text": REMINDER.text}]
    assert gateway.keys == ["r-1"]


async def test_transient_answers_are_retried() -> None:
    with running_gateway() as gateway:
        gateway.script = [503, 429]
        await HttpSender(gateway.url, retries=3, backoff=0).send(REMINDER)
    assert len(gateway.received) == 1


async def test_a_gateway_that_stays_down_is_a_transient_error() -> None:
    with running_gateway() as gateway:
        gateway.script = [500, 502, 503]
        with pytest.raises(TransientSendError):
            await HttpSender(gateway.url, retries=2, backoff=0).send(REMINDER)
    assert gateway.received == [] and gateway.script == []


async def test_a_refused_reminder_is_a_permanent_error() -> None:
    with running_gateway() as gateway:
        gateway.script = [400]
        with pytest.raises(PermanentSendError):
            await HttpSender(gateway.url, retries=3, backoff=0).send(REMINDER)


async def test_no_gateway_listening_is_a_transient_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientSendError):
        await HttpSender(f"http://127.0.0.1:{port}/sms", retries=1, backoff=0).send(REMINDER)


async def test_the_file_sender_writes_the_sms_and_logs_no_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bindeled.reminders")
    sender = FileSender(tmp_path / "reminders")
    await sender.send(REMINDER)
    await sender.send(REMINDER)
    files = list((tmp_path / "reminders").iterdir())
    assert [f.name for f in files] == ["r-1.txt"]
    assert files[0].read_text("utf-8") == f"channel: sms\nto: +4512345678\n\n{REMINDER.text}\n"
    for record in caplog.records:
        assert "+4512345678" not in record.getMessage() and "+4512345678" not in str(record.__dict__)


async def test_the_settings_choose_the_sender(tmp_path: Path) -> None:
    assert isinstance(sender_from(Settings(data_dir=str(tmp_path))), FileSender)
    chosen = sender_from(Settings(reminder_sender="http", reminder_gateway_url="http://127.0.0.1:9/sms"))
    assert isinstance(chosen, HttpSender) and chosen.url == "http://127.0.0.1:9/sms"
    with pytest.raises(ValueError):
        Settings(reminder_sender="http")
    with pytest.raises(ValueError):
        Settings(reminder_sender="pigeon")
