"""File intake: a folder of .hl7 files processed and moved to done/ or quarantine/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindeled.lab import MemorySink, inspect, receive_folder
from bindeled.lab.file_intake import split_messages
from tests.lab.messages import oru

pytestmark = pytest.mark.anyio


def test_split_messages_handles_line_endings_and_batches() -> None:
    data = (
        "FHS|^~\\&\nBHS|^~\\&\n"
        + oru(control_id="A").replace("\r", "\r\n")
        + oru(control_id="B").replace("\r", "\n")
        + "BTS|2\nFTS|1\n"
    ).encode()
    messages = split_messages(data)
    assert [m.split(b"\r")[0].split(b"|")[9] for m in messages] == [b"A", b"B"]
    assert all(m.endswith(b"\r") and b"\n" not in m for m in messages)


async def test_folder_intake_moves_files(tmp_path: Path, sink: MemorySink) -> None:
    (tmp_path / "a.hl7").write_bytes(oru(control_id="F1").encode())
    (tmp_path / "b.hl7").write_bytes(
        (oru(control_id="F2") + oru(control_id="F3", pid3="")).replace("\r", "\n").encode()
    )
    (tmp_path / "notes.txt").write_text("not a message")
    outcomes = await receive_folder(tmp_path, sink)
    assert [(o.name, o.accepted, o.moved_to.parent.name) for o in outcomes] == [
        ("a.hl7", True, "done"),
        ("b.hl7", False, "quarantine"),
    ]
    assert (tmp_path / "done" / "a.hl7").exists()
    assert (tmp_path / "quarantine" / "b.hl7").exists()
    assert (tmp_path / "notes.txt").exists()
    assert not (tmp_path / "a.hl7").exists()
    (record,) = await inspect(sink)
    assert (record.control_id, record.source) == ("F3", "file:b.hl7")
    assert await receive_folder(tmp_path, sink) == []


async def test_empty_file_goes_to_quarantine(tmp_path: Path, sink: MemorySink) -> None:
    (tmp_path / "empty.hl7").write_bytes(b"")
    (outcome,) = await receive_folder(tmp_path, sink)
    assert not outcome.accepted
    assert outcome.moved_to == tmp_path / "quarantine" / "empty.hl7"
