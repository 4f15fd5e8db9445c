"""Where reminders go: a pluggable :class:`ReminderSender`, a file sender for the demo, an HTTP SMS gateway.

A sender raises :class:`TransientSendError` when trying again later may work (the outbox gives the
reminder back) and :class:`PermanentSendError` when it will not. Log lines name the reminder id and
channel only — never the address, the text, a CPR number or a name.

* :class:`FileSender` writes each reminder as a file ``<id>.txt`` in a folder (the demo's "SMS"):
  the channel, the address and the text. Writing twice leaves one file.
* :class:`HttpSender` POSTs ``{"id", "channel", "to", "text"}`` as JSON to a gateway URL with an
  ``Idempotency-Key`` header (the reminder id, so a gateway can drop a repeat), retrying connection
  failures, timeouts, 429 and 5xx with exponential back-off before it gives up with a transient error;
  other 4xx answers are permanent.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import anyio
import httpx

from .model import OutgoingReminder

__all__ = ["FileSender", "HttpSender", "PermanentSendError", "ReminderSender", "TransientSendError"]

log = logging.getLogger("bindeled.reminders")


class TransientSendError(Exception):
    """Sending failed, but may succeed later."""


class PermanentSendError(Exception):
    """Sending failed and will keep failing (a refused address, a bad request)."""


class ReminderSender(Protocol):
    """Delivers one reminder; raises :class:`TransientSendError` or :class:`PermanentSendError`."""

    async def send(self, reminder: OutgoingReminder) -> None: ...


class FileSender:
    """The demo's sender: one text file per reminder in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, reminder: OutgoingReminder) -> None:
        await anyio.to_thread.run_sync(self._write, reminder)
        log.info("reminder sent", extra={"reminder_id": reminder.id, "channel": reminder.channel, "sender": "file"})

    def _write(self, reminder: OutgoingReminder) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{reminder.id}.txt"
        partial = target.with_suffix(".part")
        partial.write_text(f"channel: {reminder.channel}\nto: {reminder.address}\n\n{reminder.text}\n", "utf-8")
        os.replace(partial, target)


_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpSender:
    """An SMS (or e-mail) gateway reached over HTTP with a JSON body."""

    def __init__(self, url: str, *, timeout: float = 10.0, retries: int = 3, backoff: float = 0.5) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    async def send(self, reminder: OutgoingReminder) -> None:
        body = {"id": reminder.id, "channel": reminder.channel, "to": reminder.address, "text": reminder.text}
        headers = {"Idempotency-Key": reminder.id}
        problem = ""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    await anyio.sleep(self.backoff * 2 ** (attempt - 1))
                try:
                    answer = await client.post(self.url, json=body, headers=headers)
                except httpx.TransportError as exc:
                    problem = type(exc).__name__
                    continue
                if answer.status_code < 300:
                    log.info("reminder sent", extra={"reminder_id": reminder.id, "channel": reminder.channel})
                    return
                problem = f"gateway answered {answer.status_code}"
                if answer.status_code not in _RETRY_STATUSES:
                    raise PermanentSendError(problem)
        log.warning("reminder not sent", extra={"reminder_id": reminder.id, "problem": problem})
        raise TransientSendError(problem)
