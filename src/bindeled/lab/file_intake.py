"""File intake: a folder of ``.hl7`` files, each processed and moved to ``done/`` or ``quarantine/``.

A file may hold one message or several (each starting at an ``MSH`` line; batch header and trailer
segments ``FHS``/``BHS``/``BTS``/``FTS`` are skipped). Line endings may be CR, LF or CRLF. Every message
goes through :func:`~bindeled.lab.intake.receive_er7`, so rejected messages land in the sink's quarantine
as they would over MLLP; the file itself moves to ``quarantine/`` when any of its messages was not
accepted, else to ``done/``. Moving is the last step, so a crash leaves the file to be picked up again,
and duplicates from such a re-run are answered idempotently.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from bindeled.lab.codes import CodeMap
from bindeled.lab.hl7v2.ack import Ack, AckCode
from bindeled.lab.intake import Clock, _utcnow, receive_er7
from bindeled.lab.sink import ResultSink

__all__ = ["FileOutcome", "receive_folder", "split_messages"]

_BATCH = (b"FHS", b"BHS", b"BTS", b"FTS")


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file."""

    name: str
    acks: tuple[Ack, ...]
    moved_to: Path

    @property
    def accepted(self) -> bool:
        return bool(self.acks) and all(ack.code is AckCode.ACCEPT for ack in self.acks)


def split_messages(data: bytes) -> list[bytes]:
    """The messages in a file's bytes, each with CR segment terminators."""
    lines = [line.strip(b" \t") for line in re.split(rb"\r\n|\r|\n", data)]
    messages: list[list[bytes]] = []
    for line in lines:
        if not line or line[:3] in _BATCH:
            continue
        if line.startswith(b"MSH") or not messages:
            messages.append([])
        messages[-1].append(line)
    return [b"\r".join(segments) + b"\r" for segments in messages]


async def receive_folder(
    folder: Path, sink: ResultSink, *, codes: CodeMap | None = None, now: Clock = _utcnow
) -> list[FileOutcome]:
    """Process every ``*.hl7`` file directly in ``folder`` (in name order); file I/O runs in a thread."""
    done, held = folder / "done", folder / "quarantine"
    paths = await asyncio.to_thread(_prepare, folder, done, held)
    outcomes = []
    for path in paths:
        data = await asyncio.to_thread(path.read_bytes)
        source = f"file:{path.name}"
        acks = tuple(
            [await receive_er7(raw, sink, source=source, codes=codes, now=now) for raw in split_messages(data)]
        )
        accepted = bool(acks) and all(ack.code is AckCode.ACCEPT for ack in acks)
        target = (done if accepted else held) / path.name
        await asyncio.to_thread(path.replace, target)
        outcomes.append(FileOutcome(path.name, acks, target))
    return outcomes


def _prepare(folder: Path, done: Path, held: Path) -> list[Path]:
    done.mkdir(exist_ok=True)
    held.mkdir(exist_ok=True)
    return sorted(folder.glob("*.hl7"))
